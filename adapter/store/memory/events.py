"""`MemoryInbox`: stored events in memory, as the doors store them and the planning step
reads them (the `InboxReader` port, plus `insert_event(s)` to store them).

The same rules as `adapter.store.events_repo`: an event id is unique per tenant among the
live (not rejected) events, a case's sequence is taken once (internal events follow a
sequence, they take none); a duplicate changes nothing, a conflict is kept as a rejected
row (once per distinct content and reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from adapter.store.records import CaseKey, InboundEvent, StoredEvent
from adapter.store.states import EventSource, EventState, InsertOutcome

__all__ = ["MemoryInbox"]

_Found = tuple[InsertOutcome, str | None, str | None]


class MemoryInbox:
    """The inbox over a dict of `StoredEvent`s (ids count up from 1)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._rows: dict[int, StoredEvent] = {}

    async def insert_event(self, rec: InboundEvent) -> InsertOutcome:
        """Store a valid event once: accepted, duplicate (no-op) or conflict (kept rejected)."""
        (outcome,) = await self.insert_events([rec])
        return outcome

    async def insert_events(self, recs: Sequence[InboundEvent]) -> list[InsertOutcome]:
        """`insert_event` for many events, in order."""
        outcomes: list[InsertOutcome] = []
        for rec in recs:
            found = self._classify(rec)
            if found is None:
                self._add(rec, EventState.ACCEPTED)
                outcomes.append(InsertOutcome.ACCEPTED)
                continue
            outcome, field, reason = found
            if outcome is InsertOutcome.CONFLICT:
                self._store_conflict(rec, field, reason or "conflict")
            outcomes.append(outcome)
        return outcomes

    async def get_event(self, row_id: int) -> StoredEvent | None:
        """One stored event by row id."""
        return self._rows.get(row_id)

    async def events_for_case(
        self, tenant: str, case_id: str, *, include_rejected: bool = False
    ) -> list[StoredEvent]:
        """A case's events in sequence order (rejected rows last, only when asked for)."""
        rows = [
            r
            for r in self._rows.values()
            if (r.tenant, r.case_id) == (tenant, case_id)
            and (include_rejected or r.state is not EventState.REJECTED)
        ]
        return sorted(rows, key=lambda r: (r.state is EventState.REJECTED, r.sequence or 0, r.id))

    async def cases_with_events(
        self, states: Iterable[EventState] = (EventState.ACCEPTED,), tenant: str | None = None
    ) -> list[CaseKey]:
        """Cases that have events in any of `states`, sorted."""
        wanted = set(states)
        keys = {
            (r.tenant, r.case_id)
            for r in self._rows.values()
            if r.state in wanted
            and r.tenant is not None
            and r.case_id is not None
            and tenant in (None, r.tenant)
        }
        return [CaseKey(tenant=t, case_id=c) for t, c in sorted(keys)]

    def set_state(self, row_id: int, state: EventState, reason: str | None, now: datetime) -> bool:
        """Set one event's state (a planning step's change); False when there is no such row."""
        row = self._rows.get(row_id)
        if row is None:
            return False
        changes: dict[str, Any] = {"state": state, "reason": reason}
        if state is EventState.PLANNED:
            changes["planned_at"] = now
        self._rows[row_id] = row.model_copy(update=changes)
        return True

    def _live(self) -> list[StoredEvent]:
        return [r for r in self._rows.values() if r.state is not EventState.REJECTED]

    def _classify(self, rec: InboundEvent) -> _Found | None:
        for row in self._live():
            if (row.tenant, row.event_id) == (rec.tenant, rec.event_id):
                return _same_event(rec, row.content_hash)
        if rec.source is EventSource.INTERNAL:
            return None  # an internal event follows a sequence, it does not take one
        for row in self._live():
            taken = (row.tenant, row.case_id, row.sequence) == (
                rec.tenant,
                rec.case_id,
                rec.sequence,
            )
            if taken and row.source is not EventSource.INTERNAL:
                return (
                    InsertOutcome.CONFLICT,
                    "sequence",
                    f"conflict: sequence {rec.sequence} of case {rec.tenant}/{rec.case_id} "
                    f"already holds event {row.event_id}",
                )
        return None

    def _store_conflict(self, rec: InboundEvent, field: str | None, reason: str) -> None:
        for row in self._rows.values():
            if row.state is EventState.REJECTED and (
                row.tenant,
                row.event_id,
                row.content_hash,
                row.reason,
            ) == (rec.tenant, rec.event_id, rec.content_hash, reason):
                return
        self._add(rec, EventState.REJECTED, field=field, reason=reason)

    def _add(
        self,
        rec: InboundEvent,
        state: EventState,
        *,
        field: str | None = None,
        reason: str | None = None,
    ) -> None:
        row_id = len(self._rows) + 1
        self._rows[row_id] = StoredEvent(
            id=row_id,
            **rec.model_dump(),
            state=state,
            reason=reason,
            field=field,
            received_at=self._clock(),
            planned_at=None,
        )


def _same_event(rec: InboundEvent, stored_hash: str | None) -> _Found:
    """`rec` against a stored event with its id: duplicate, or conflict on `event_id`."""
    if stored_hash == rec.content_hash:
        return InsertOutcome.DUPLICATE, None, None
    return (
        InsertOutcome.CONFLICT,
        "event_id",
        f"conflict: event {rec.event_id} was stored before with other content",
    )
