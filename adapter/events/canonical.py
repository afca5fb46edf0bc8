"""The canonical form of a raw event: what "the same content" means for idempotency."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

__all__ = ["canonical_json", "content_hash"]


def canonical_json(raw: Mapping[str, object]) -> str:
    """`raw` as JSON with sorted keys, no spaces and unescaped non-ASCII text."""
    return json.dumps(
        raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def content_hash(raw: Mapping[str, object]) -> str:
    """SHA-256 (hex) of `canonical_json(raw)`: equal for equal content, whatever the key order."""
    return hashlib.sha256(canonical_json(raw).encode("utf-8", "surrogatepass")).hexdigest()
