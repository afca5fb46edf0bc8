"""What of raw, unvalidated input may be shown back: ids checked for form, never a nin or a name.

A refused event is kept whole in the store, but operators see only what these functions
let through (CLI tables, `--json`, door answers, messages): an event_id that is a UUID, a
tenant or case id of the id form that does not look like a nin, a known event type, a
sequence that fits the store, and field paths whose keys look like field names. Anything
else becomes None (or `HIDDEN` inside a field path): a sender who puts "Emma Haugen
14831651238" where an id belongs must not see it echoed anywhere.
"""

from __future__ import annotations

import re
from uuid import UUID

from adapter.events.enums import EventType
from adapter.nin import looks_like_nin

__all__ = [
    "FIELD_MAX_LENGTH",
    "HIDDEN",
    "safe_event_id",
    "safe_field",
    "safe_item_id",
    "safe_key",
    "safe_sequence",
    "safe_type",
]

HIDDEN = "<hidden>"
"""Stands for a key of the input that is not shown (it does not look like a field name)."""

FIELD_MAX_LENGTH = 255
"""The longest field path stored (the store's column)."""

_ITEM_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_KEY = re.compile(r"<json>|[A-Za-z_][A-Za-z0-9_-]{0,63}|\d{1,6}")
_TYPES = frozenset(t.value for t in EventType)
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


def safe_event_id(value: object) -> str | None:
    """`value` as a canonical UUID string, or None when it is not a UUID."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None


def safe_item_id(value: object) -> str | None:
    """`value` when it is an id (1–64 of `A–Z a–z 0–9 . _ -`) that does not look like a nin."""
    if isinstance(value, str) and _ITEM_ID.fullmatch(value) and not looks_like_nin(value):
        return value
    return None


def safe_type(value: object) -> str | None:
    """`value` when it is a known event type."""
    return value if isinstance(value, str) and value in _TYPES else None


def safe_sequence(value: object) -> int | None:
    """`value` when it is an integer the store can hold (a signed 64-bit integer)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _BIGINT_MIN <= value <= _BIGINT_MAX else None
    return None


def safe_key(key: object) -> str:
    """One key of a field path, or `HIDDEN` when it does not look like a field name or index."""
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if isinstance(key, str) and _KEY.fullmatch(key) and not looks_like_nin(key):
        return key
    return HIDDEN


def safe_field(field: str | None) -> str | None:
    """A dotted field path with every key that is not shown replaced by `HIDDEN`, cut to fit."""
    if field is None:
        return None
    shown = ".".join(safe_key(part) for part in field.split("."))
    return shown[:FIELD_MAX_LENGTH]
