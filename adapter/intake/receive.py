"""What every door does with one piece of input: validate it, then store it, either way.

Valid events go to the inbox idempotently; anything refused is stored as rejected with
the line or event id, the field and the reason. Nothing is dropped without a trace, and
no reason ever carries a nin or a name (the event parser guarantees that of its messages);
of the raw envelope only ids that pass `adapter.events.safe` are kept beside the payload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from adapter.errors import RejectedInput
from adapter.events import Event, RulesLookup, canonical_json, content_hash, parse_event
from adapter.events.parse import decode_json
from adapter.events.safe import (
    safe_event_id,
    safe_field,
    safe_item_id,
    safe_sequence,
    safe_type,
)
from adapter.intake.inbox import Inbox
from adapter.logs import get_logger
from adapter.nin import mask_nins
from adapter.store.records import InboundEvent, RejectedRecord
from adapter.store.states import EventSource, InsertOutcome

__all__ = [
    "Prepared",
    "Receipt",
    "ReceiptOutcome",
    "prepare_object",
    "prepare_text",
    "receive_object",
    "receive_text",
    "store_prepared",
    "to_inbound",
]

log = get_logger(__name__)


class ReceiptOutcome(StrEnum):
    """What became of one piece of input."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Receipt:
    """The door's answer for one event or line (no personal data in it)."""

    outcome: ReceiptOutcome
    event_id: str | None = None
    line: int | None = None
    field: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, object]:
        """The receipt as the contract's JSON (`ingest` rejections, push results)."""
        out: dict[str, object] = {"result": self.outcome.value}
        if self.event_id is not None:
            out["event_id"] = self.event_id
        if self.line is not None:
            out["line"] = self.line
        if self.outcome is ReceiptOutcome.REJECTED:
            out["field"] = self.field
            out["message"] = self.message
        return out


def to_inbound(
    event: Event,
    raw: Mapping[str, object],
    *,
    source: EventSource,
    source_ref: str | None,
    line: int | None,
) -> InboundEvent:
    """The store's record of a validated event; the payload is the canonical raw JSON."""
    return InboundEvent(
        event_id=str(event.event_id),
        tenant=event.tenant,
        case_id=event.case_id,
        sequence=event.sequence,
        type=event.type.value,
        occurred_at=event.occurred_at,
        payload=canonical_json(raw),
        content_hash=content_hash(raw),
        source=source,
        source_ref=source_ref,
        line=line,
    )


async def _reject(
    inbox: Inbox,
    exc: RejectedInput,
    *,
    payload: str,
    raw: object,
    source: EventSource,
    source_ref: str | None,
    line: int | None,
) -> Receipt:
    # Only what passes the `safe_*` checks is kept beside the payload: these columns are
    # what `events rejected` and the door's answer show.
    get = raw.get if isinstance(raw, Mapping) else _nothing
    event_id = safe_event_id(exc.event_id) or safe_event_id(get("event_id"))
    field = safe_field(exc.field)
    message = mask_nins(str(exc))
    await inbox.reject(
        RejectedRecord(
            reason=message,
            payload=payload,
            source=source,
            source_ref=source_ref,
            line=line,
            event_id=event_id,
            tenant=safe_item_id(get("tenant")),
            case_id=safe_item_id(get("case_id")),
            sequence=safe_sequence(get("sequence")),
            type=safe_type(get("type")),
            field=field,
        )
    )
    return Receipt(
        ReceiptOutcome.REJECTED, event_id=event_id, line=line, field=field, message=message
    )


def _nothing(_key: str) -> None:
    return None


def _payload_of(raw: object) -> str:
    """The text kept for a decoded event: canonical JSON when it is an object, else its repr."""
    try:
        return canonical_json(raw) if isinstance(raw, Mapping) else repr(raw)
    except (TypeError, ValueError, RecursionError):
        return "<not representable as text>"


def _validate(
    raw: object, *, rules: RulesLookup, line: int | None, only_tenant: str | None
) -> tuple[Event, Mapping[str, object]]:
    """`parse_event` for a door; anything it raises besides a refusal becomes a refusal too.

    A door must outlive any input: an unexpected error inside validation is logged (its
    type only) and the input is kept as rejected instead of stopping the door.
    """
    if not isinstance(raw, Mapping):
        raise RejectedInput(
            _where(line, None) + "<json>: an event must be a JSON object", field="<json>"
        )
    try:
        event = parse_event(raw, rules=rules, line=line)
    except RejectedInput:
        raise
    except Exception as exc:  # any input must end as one stored row, never crash the door
        log.error("event validation failed unexpectedly", error_type=type(exc).__name__)
        raise RejectedInput(
            _where(line, None) + "<json>: could not be validated", field="<json>", line=line
        ) from None
    if only_tenant is not None and event.tenant != only_tenant:
        raise RejectedInput(
            _where(line, str(event.event_id)) + "tenant: not the tenant of this token",
            field="tenant",
            event_id=str(event.event_id),
            line=line,
        )
    return event, raw


@dataclass(frozen=True)
class Prepared:
    """One piece of input, checked and not yet stored: the record to store, or the refusal
    (with the text and decoded value kept as the rejected row's payload)."""

    line: int | None
    record: InboundEvent | None = None
    refusal: RejectedInput | None = None
    payload: str = ""
    raw: object = None


def prepare_object(
    raw: object,
    *,
    rules: RulesLookup,
    source: EventSource,
    source_ref: str | None = None,
    line: int | None = None,
    payload_text: str | None = None,
    only_tenant: str | None = None,
) -> Prepared:
    """Validate one decoded event. `only_tenant` refuses events of other tenants."""
    payload = _payload_of(raw) if payload_text is None else payload_text
    try:
        event, mapping = _validate(raw, rules=rules, line=line, only_tenant=only_tenant)
    except RejectedInput as exc:
        return Prepared(line, refusal=exc, payload=payload, raw=raw)
    record = to_inbound(event, mapping, source=source, source_ref=source_ref, line=line)
    return Prepared(line, record=record)


def prepare_text(
    text: str | bytes,
    *,
    rules: RulesLookup,
    source: EventSource,
    source_ref: str | None = None,
    line: int | None = None,
) -> Prepared:
    """Decode one JSON text (a JSONL line), then validate it."""
    payload_text = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    try:
        raw = decode_json(text, line=line)
    except RejectedInput as exc:
        return Prepared(line, refusal=exc, payload=payload_text)
    return prepare_object(
        raw, rules=rules, source=source, source_ref=source_ref, line=line, payload_text=payload_text
    )


async def store_prepared(
    items: Sequence[Prepared], *, inbox: Inbox, source: EventSource, source_ref: str | None
) -> list[Receipt]:
    """Store checked input: the valid events in ONE transaction, each refusal as its row;
    one receipt per item, in order."""
    valid = [item.record for item in items if item.record is not None]
    outcomes = iter(await inbox.accept_many(valid))
    receipts: list[Receipt] = []
    for item in items:
        if item.record is not None:
            receipts.append(await _receipt(inbox, item.record, next(outcomes), item.line))
            continue
        assert item.refusal is not None
        receipts.append(
            await _reject(
                inbox,
                item.refusal,
                payload=item.payload,
                raw=item.raw,
                source=source,
                source_ref=source_ref,
                line=item.line,
            )
        )
    return receipts


async def _receipt(
    inbox: Inbox, record: InboundEvent, outcome: InsertOutcome, line: int | None
) -> Receipt:
    event_id = record.event_id
    if outcome is InsertOutcome.ACCEPTED:
        return Receipt(ReceiptOutcome.ACCEPTED, event_id=event_id, line=line)
    if outcome is InsertOutcome.DUPLICATE:
        return Receipt(ReceiptOutcome.DUPLICATE, event_id=event_id, line=line)
    field = await inbox.conflict_field(record)
    clash = (
        "the same event_id was stored before with other content"
        if field == "event_id"
        else "the case's sequence already holds another event"
    )
    return Receipt(
        ReceiptOutcome.REJECTED,
        event_id=event_id,
        line=line,
        field=field,
        message=f"{_where(line, event_id)}{field}: conflict: {clash}",
    )


async def receive_object(
    raw: object,
    *,
    inbox: Inbox,
    rules: RulesLookup,
    source: EventSource,
    source_ref: str | None = None,
    line: int | None = None,
    payload_text: str | None = None,
    only_tenant: str | None = None,
) -> Receipt:
    """Validate and store one decoded event. `only_tenant` refuses events of other tenants."""
    item = prepare_object(
        raw,
        rules=rules,
        source=source,
        source_ref=source_ref,
        line=line,
        payload_text=payload_text,
        only_tenant=only_tenant,
    )
    (receipt,) = await store_prepared([item], inbox=inbox, source=source, source_ref=source_ref)
    return receipt


async def receive_text(
    text: str | bytes,
    *,
    inbox: Inbox,
    rules: RulesLookup,
    source: EventSource,
    source_ref: str | None = None,
    line: int | None = None,
) -> Receipt:
    """Decode one JSON text (a JSONL line), then validate and store it."""
    item = prepare_text(text, rules=rules, source=source, source_ref=source_ref, line=line)
    (receipt,) = await store_prepared([item], inbox=inbox, source=source, source_ref=source_ref)
    return receipt


def _where(line: int | None, event_id: str | None) -> str:
    parts = []
    if line is not None:
        parts.append(f"line {line}")
    if event_id is not None:
        parts.append(f"event {event_id}")
    return (", ".join(parts) + ": ") if parts else ""
