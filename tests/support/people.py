"""The people in event data: every `nin` and `name` value, wherever it is nested."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["people_of"]


def people_of(events: Iterable[Any]) -> tuple[set[str], set[str]]:
    """Every `nin` and every `name` value anywhere in the events (nins, names)."""
    nins: set[str] = set()
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "nin" and isinstance(inner, str):
                    nins.add(inner)
                elif key == "name" and isinstance(inner, str):
                    names.add(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for event in events:
        walk(event)
    return nins, names
