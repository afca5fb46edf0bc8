"""The BTI rules, one module per concern; each handler applies one event type to a `Ctx`."""

from __future__ import annotations

__all__: list[str] = []
