"""The store's ports in memory, for unit tests (like procrastinate's in-memory connector).

`MemoryStore(clock)` offers `outbox` (`MemoryOutbox`) and `links` (`MemoryLinks`), sharing
one links table: completing an operation records its links there, as the SQL store does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapter.store.memory.links import MemoryLinks
from adapter.store.memory.outbox import MemoryOutbox

__all__ = ["MemoryLinks", "MemoryOutbox", "MemoryStore"]


class MemoryStore:
    """The dispatcher's store (`DispatchStore`) in memory."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.links = MemoryLinks()
        self.outbox = MemoryOutbox(clock, self.links)
