"""What every door does with one piece of input: validate it, then store it, either way.

Valid events go to the inbox idempotently; anything refused is stored as rejected with
the line or event id, the field and the reason. Nothing is dropped without a trace, and
no reason ever carries a nin or a name (the event parser guarantees that of its messages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from adapter.errors import RejectedInput
from adapter.events import Event, RulesLookup, canonical_json, content_hash, parse_event
from adapter.events.parse import decode_json
from adapter.intake.inbox import Inbox
from adapter.store.records import InboundEvent, RejectedRecord
from adapter.store.states import EventSource, InsertOutcome

__all__ = ["Receipt", "ReceiptOutcome", "receive_object", "receive_text", "to_inbound"]


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


def _str_or_none(raw: object, key: str, limit: int = 64) -> str | None:
    if isinstance(raw, Mapping):
        value = raw.get(key)
        if isinstance(value, str) and 0 < len(value) <= limit:
            return value
    return None


def _int_or_none(raw: object, key: str) -> int | None:
    if isinstance(raw, Mapping):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


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
    event_id = exc.event_id or _str_or_none(raw, "event_id")
    await inbox.reject(
        RejectedRecord(
            reason=str(exc),
            payload=payload,
            source=source,
            source_ref=source_ref,
            line=line,
            event_id=event_id,
            tenant=_str_or_none(raw, "tenant"),
            case_id=_str_or_none(raw, "case_id"),
            sequence=_int_or_none(raw, "sequence"),
            type=_str_or_none(raw, "type"),
            field=exc.field,
        )
    )
    return Receipt(
        ReceiptOutcome.REJECTED, event_id=event_id, line=line, field=exc.field, message=str(exc)
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
    if payload_text is None:
        try:
            payload_text = canonical_json(raw) if isinstance(raw, Mapping) else repr(raw)
        except (TypeError, ValueError):
            payload_text = repr(raw)
    try:
        if not isinstance(raw, Mapping):
            raise RejectedInput(
                _where(line, None) + "<json>: an event must be a JSON object", field="<json>"
            )
        event = parse_event(raw, rules=rules, line=line)
        if only_tenant is not None and event.tenant != only_tenant:
            raise RejectedInput(
                _where(line, str(event.event_id)) + "tenant: not the tenant of this token",
                field="tenant",
                event_id=str(event.event_id),
                line=line,
            )
    except RejectedInput as exc:
        return await _reject(
            inbox,
            exc,
            payload=payload_text,
            raw=raw,
            source=source,
            source_ref=source_ref,
            line=line,
        )
    record = to_inbound(event, raw, source=source, source_ref=source_ref, line=line)
    outcome = await inbox.accept(record)
    event_id = str(event.event_id)
    if outcome is InsertOutcome.ACCEPTED:
        return Receipt(ReceiptOutcome.ACCEPTED, event_id=event_id, line=line)
    if outcome is InsertOutcome.DUPLICATE:
        return Receipt(ReceiptOutcome.DUPLICATE, event_id=event_id, line=line)
    return Receipt(
        ReceiptOutcome.REJECTED,
        event_id=event_id,
        line=line,
        field="event_id",
        message=_where(line, event_id)
        + "event_id/sequence: conflicts with a stored event (same id or case sequence, "
        "other content)",
    )


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
    payload_text = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    try:
        raw = decode_json(text, line=line)
    except RejectedInput as exc:
        return await _reject(
            inbox,
            exc,
            payload=payload_text,
            raw=None,
            source=source,
            source_ref=source_ref,
            line=line,
        )
    return await receive_object(
        raw,
        inbox=inbox,
        rules=rules,
        source=source,
        source_ref=source_ref,
        line=line,
        payload_text=payload_text,
    )


def _where(line: int | None, event_id: str | None) -> str:
    parts = []
    if line is not None:
        parts.append(f"line {line}")
    if event_id is not None:
        parts.append(f"event {event_id}")
    return (", ".join(parts) + ": ") if parts else ""
