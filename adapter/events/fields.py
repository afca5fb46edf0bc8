"""Constrained field types shared by the event models, and the validation context.

The nin check depends on the tenant (`accept_synthetic_nin`), so it reads the pydantic
validation context built by `validation_context`; without a context synthetic numbers
are refused, the safe default.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, StringConstraints, ValidationInfo

from adapter.nin import looks_like_nin, validate_nin

__all__ = [
    "ID_PATTERN",
    "MEDIA_TYPE_PATTERN",
    "MODEL_CONFIG",
    "NON_BLANK_PATTERN",
    "SHA256_PATTERN",
    "FieldProblem",
    "HttpUrl",
    "ItemId",
    "Nin",
    "Sha256",
    "Text",
    "accept_synthetic",
    "validation_context",
]

MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid")
"""Every event model: immutable, and an unknown field is an error (events.md)."""

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
NON_BLANK_PATTERN = r"\S"
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
MEDIA_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"

_CONTEXT_KEY = "accept_synthetic_nin"


def validation_context(*, accept_synthetic_nin: bool) -> dict[str, Any]:
    """The pydantic context the event models read the tenant's nin rule from."""
    return {_CONTEXT_KEY: accept_synthetic_nin}


def accept_synthetic(info: ValidationInfo) -> bool:
    """Whether this validation run accepts Tenor synthetic nins (False without context)."""
    context = info.context
    return isinstance(context, dict) and context.get(_CONTEXT_KEY) is True


def _check_nin(value: str, info: ValidationInfo) -> str:
    return validate_nin(value, accept_synthetic=accept_synthetic(info))


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


def _not_nin_like(value: str) -> str:
    # Ids are shown and logged freely; one that could be a person's nin must never get in.
    if looks_like_nin(value):
        raise ValueError("must not look like a national identity number (11 digits)")
    return value


Nin = Annotated[str, AfterValidator(_check_nin)]
"""A fødselsnummer or D-number; synthetic numbers only where the context allows them."""

ItemId = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(_not_nin_like)]
"""A case key or the internal id of an item (1–64 of `A–Z a–z 0–9 . _ -`), never nin-shaped."""

Text = Annotated[str, StringConstraints(pattern=NON_BLANK_PATTERN)]
"""Free text that must not be empty or blank."""

Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
"""A SHA-256 digest as 64 hex digits."""

HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
"""An absolute http(s) URL, kept as the sender wrote it."""


class FieldProblem(ValueError):
    """A cross-field rule failed; `field` names the field (inside the model) to blame."""

    def __init__(self, message: str, *, field: str):
        self.field = field
        super().__init__(message)
