"""Turn raw input (a mapping, or one JSONL line) into a validated `Event`.

Parsing runs in two steps so that errors point at the right field: the envelope first,
then the data model that `type` names (`DATA_MODELS`), with the tenant's nin rule and
profile. Every failure is a `RejectedInput` whose message names the event (line and/or
event_id) and the field, and never quotes the input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, Protocol

from pydantic import BaseModel, ValidationError

from adapter.errors import RejectedInput
from adapter.events.canonical import canonical_json
from adapter.events.data import DATA_MODELS, CaseOpenedData, EventData, StepEnteredData
from adapter.events.enums import INTERNAL_EVENT_TYPES, EventType
from adapter.events.envelope import Event, RawEnvelope
from adapter.events.fields import validation_context
from adapter.events.messages import describe_error
from adapter.events.safe import safe_event_id, safe_field, safe_key
from adapter.nin import mask_nins
from adapter.profiles import Profile

__all__ = ["MAX_DEPTH", "RulesLookup", "TenantRules", "decode_json", "parse_event", "parse_line"]

JSON_FIELD = "<json>"

MAX_DEPTH = 64
"""The deepest nesting of objects and lists accepted; an event needs fewer than ten levels."""
_TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


class TenantRules(Protocol):
    """What parsing needs to know about a tenant (satisfied by the tenant config)."""

    @property
    def accept_synthetic_nin(self) -> bool: ...

    @property
    def profile_obj(self) -> Profile: ...


RulesLookup = Callable[[str], TenantRules | None]
"""Tenant key -> its rules, None when no such tenant is configured."""


class _Where:
    """Which event a message is about: its line and/or its (valid) event_id."""

    def __init__(self, *, line: int | None, event_id: str | None):
        self.line = line
        self.event_id = event_id

    def reject(self, field: str | None, reason: str) -> RejectedInput:
        field = safe_field(field)
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.event_id is not None:
            parts.append(f"event {self.event_id}")
        subject = ", ".join(parts) or "event"
        text = f"{subject}: {field}: {reason}" if field else f"{subject}: {reason}"
        return RejectedInput(
            mask_nins(text),
            field=field,
            event_id=self.event_id,
            line=self.line,
        )

    def from_validation(self, exc: ValidationError, *, prefix: str = "") -> RejectedInput:
        described = [describe_error(error) for error in exc.errors(include_input=False)]
        fields = [
            safe_field(f"{prefix}{field}" if field else prefix.rstrip(".")) or ""
            for field, _ in described
        ]
        reasons = [
            f"{field}: {reason}" if field else reason
            for field, (_, reason) in zip(fields, described, strict=True)
        ]
        first = fields[0] if fields else None
        rest = "; ".join(reasons[1:])
        reason = described[0][1] if described else "invalid"
        return self.reject(first, f"{reason}; also {rest}" if rest else reason)


def _event_id_of(raw: object) -> str | None:
    """The raw event's event_id when it is a valid UUID (anything else is never echoed)."""
    return safe_event_id(raw.get("event_id")) if isinstance(raw, Mapping) else None


def _too_deep(value: object) -> bool:
    """Whether `value` nests objects or lists deeper than `MAX_DEPTH` (without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[object] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__("duplicate key")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(payload: str | bytes, *, line: int | None = None) -> object:
    """Decode JSON text strictly: UTF-8 only, no duplicate keys, no NaN/Infinity.

    Failures are `RejectedInput` with field `<json>`; shared by the file and push doors.
    """
    where = _Where(line=line, event_id=None)
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise where.reject(JSON_FIELD, "not valid UTF-8 text") from None
    text = payload.removeprefix("\ufeff").strip()
    if not text:
        raise where.reject(JSON_FIELD, "empty input, expected a JSON object")
    try:
        decoded = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        raise where.reject(JSON_FIELD, f"broken JSON ({exc.msg}, column {exc.colno})") from None
    except _DuplicateKeyError as exc:
        raise where.reject(JSON_FIELD, f"duplicate key '{safe_key(exc.key)}'") from None
    except RecursionError:
        raise where.reject(JSON_FIELD, _TOO_DEEP) from None
    except ValueError as exc:
        raise where.reject(JSON_FIELD, f"broken JSON: {exc}") from None
    if _too_deep(decoded):
        raise where.reject(JSON_FIELD, _TOO_DEEP)
    return decoded


def _check_profile(where: _Where, data: EventData, profile: Profile) -> None:
    if not isinstance(data, CaseOpenedData | StepEnteredData):
        return
    if data.level not in profile.levels:
        raise where.reject("data.level", f"level {data.level} is not in the tenant's profile")
    if not profile.has_step(data.level, data.step):
        raise where.reject(
            "data.step", f"level {data.level} has no step {data.step} in the tenant's profile"
        )


def _validate(
    where: _Where, model: type[BaseModel], text: str, *, context: dict[str, Any], prefix: str
) -> Any:
    try:
        return model.model_validate_json(text, strict=True, context=context)
    except ValidationError as exc:
        raise where.from_validation(exc, prefix=prefix) from None


def parse_event(
    raw: Mapping[str, object],
    *,
    rules: RulesLookup,
    allow_internal: bool = False,
    line: int | None = None,
) -> Event:
    """Validate one raw event; `RejectedInput` naming the event and field when it is invalid.

    `allow_internal` admits the service's own types (`consent.expired`); the outside
    doors leave it False. `line` is the input line, when there is one, for the message.
    """
    where = _Where(line=line, event_id=_event_id_of(raw))
    if not isinstance(raw, Mapping):
        raise where.reject(JSON_FIELD, "an event must be a JSON object")
    if _too_deep(raw):
        raise where.reject(JSON_FIELD, _TOO_DEEP)
    try:
        text = canonical_json(raw)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        raise where.reject(JSON_FIELD, "not representable as JSON text") from None
    envelope: RawEnvelope = _validate(where, RawEnvelope, text, context={}, prefix="")
    try:
        kind = EventType(envelope.type)
    except ValueError:
        raise where.reject("type", "unknown event type") from None
    if kind in INTERNAL_EVENT_TYPES and not allow_internal:
        raise where.reject("type", "an internal event type, not accepted from outside")
    tenant = rules(envelope.tenant)
    if tenant is None:
        raise where.reject("tenant", "unknown tenant")
    if kind is EventType.CASE_OPENED and envelope.sequence != 1:
        raise where.reject("sequence", "case.opened must be the first event (sequence 1)")
    context = validation_context(accept_synthetic_nin=tenant.accept_synthetic_nin)
    data: EventData = _validate(
        where, DATA_MODELS[kind], json.dumps(envelope.data), context=context, prefix="data."
    )
    _check_profile(where, data, tenant.profile_obj)
    return Event(
        event_id=envelope.event_id,
        schema_version=envelope.schema_version,
        tenant=envelope.tenant,
        case_id=envelope.case_id,
        sequence=envelope.sequence,
        occurred_at=envelope.occurred_at,
        type=kind,
        actor=envelope.actor,
        data=data,
    )


def parse_line(line: str | bytes, *, line_no: int, rules: RulesLookup) -> Event:
    """Validate one JSONL line (an outside door: internal types are refused)."""
    raw = decode_json(line, line=line_no)
    if not isinstance(raw, dict):
        raise _Where(line=line_no, event_id=None).reject(JSON_FIELD, "not a JSON object")
    return parse_event(raw, rules=rules, line=line_no)
