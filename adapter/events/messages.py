"""Plain-words reasons for validation errors, built without ever quoting the input.

pydantic's own messages may include the offending value (`input_value=...`); these are
built only from the error's `type`, location and our own constraint texts.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_core import ErrorDetails

from adapter.events.fields import (
    ID_PATTERN,
    MEDIA_TYPE_PATTERN,
    NON_BLANK_PATTERN,
    SHA256_PATTERN,
    FieldProblem,
)

__all__ = ["describe_error", "dotted"]

_DATE = "must be a date (YYYY-MM-DD)"
_DATETIME = "must be a date-time with a UTC offset, e.g. 2026-11-02T10:15:00+01:00"

_BY_TYPE = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_aware": "must carry a UTC offset (e.g. +01:00); a time without one is ambiguous",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "json_invalid": "broken JSON",
    "json_type": "must be JSON",
}

_BY_PATTERN = {
    ID_PATTERN: "must be 1–64 characters of A–Z, a–z, 0–9, '.', '_' or '-'",
    NON_BLANK_PATTERN: "must not be empty or blank",
    SHA256_PATTERN: "must be 64 hexadecimal digits",
    MEDIA_TYPE_PATTERN: "must be a media type such as application/pdf",
}


def dotted(loc: Sequence[str | int]) -> str:
    """A pydantic location as a dotted path (`data.guardians.0.nin`)."""
    return ".".join(str(part) for part in loc)


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    if kind == "value_error":
        return str(ctx.get("error", "invalid value"))
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if kind == "string_pattern_mismatch":
        return _BY_PATTERN.get(str(ctx.get("pattern")), "has an invalid form")
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    return "invalid value"


def describe_error(error: ErrorDetails) -> tuple[str, str]:
    """`(field, reason)` for one pydantic error; the reason never contains the input."""
    loc = list(error["loc"])
    ctx = error.get("ctx", {})
    problem = ctx.get("error")
    if error["type"] == "value_error" and isinstance(problem, FieldProblem):
        loc.append(problem.field)
    return dotted(loc), _reason(error)
