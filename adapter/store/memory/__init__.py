"""The store's ports in memory, for unit tests (like procrastinate's in-memory connector).

`MemoryStore(clock)` offers `outbox` (`MemoryOutbox`), `links` (`MemoryLinks`), `events`
(`MemoryInbox`) and `cases` (`MemoryCases`), sharing their state as the SQL store's
tables do: completing an operation records its links, committing a planning step sets its
events' states and adds its operations. It serves the dispatcher (`DispatchStore`) and the
planning step (`PlanningStore`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from adapter.store.memory.cases import MemoryCases
from adapter.store.memory.events import MemoryInbox
from adapter.store.memory.links import MemoryLinks
from adapter.store.memory.outbox import MemoryOutbox

__all__ = ["MemoryCases", "MemoryInbox", "MemoryLinks", "MemoryOutbox", "MemoryStore"]


class MemoryStore:
    """The dispatcher's and the planning step's store in memory."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.links = MemoryLinks()
        self.outbox = MemoryOutbox(clock, self.links)
        self.events = MemoryInbox(clock)
        self.cases = MemoryCases(clock, self.events, self.outbox)


if TYPE_CHECKING:  # mypy proves the memory store provides both ports (and so does Store)
    from adapter.store.ports import DispatchStore, PlanningStore
    from adapter.store.store import Store

    def _ports(
        memory: MemoryStore, store: Store
    ) -> tuple[DispatchStore, PlanningStore, DispatchStore, PlanningStore]:
        return memory, memory, store, store
