"""The inbox table: storing inbound events idempotently, rejected input, and event queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.errors import StoreError
from adapter.store._base import RepoBase, as_dict
from adapter.store.records import CaseKey, InboundEvent, RejectedRecord, StoredEvent
from adapter.store.states import EventSource, EventState, InsertOutcome
from adapter.store.tables import events

__all__ = ["EventsRepo", "apply_event_state"]

_LIVE = events.c.state != EventState.REJECTED.value


def _same_event(
    rec: InboundEvent, stored_hash: str | None
) -> tuple[InsertOutcome, str | None, str | None]:
    """`rec` against a stored event with its id: duplicate, or conflict on `event_id`."""
    if stored_hash == rec.content_hash:
        return InsertOutcome.DUPLICATE, None, None
    return (
        InsertOutcome.CONFLICT,
        "event_id",
        f"conflict: event {rec.event_id} was stored before with other content",
    )


async def _classify(
    conn: AsyncConnection, rec: InboundEvent
) -> tuple[InsertOutcome, str | None, str | None] | None:
    """How `rec` relates to what is stored: None (new), duplicate, or conflict(field, reason)."""
    same_id = (
        await conn.execute(
            select(events.c.content_hash).where(
                events.c.tenant == rec.tenant, events.c.event_id == rec.event_id, _LIVE
            )
        )
    ).first()
    if same_id is not None:
        return _same_event(rec, same_id.content_hash)
    if rec.source is EventSource.INTERNAL:
        return None  # an internal event follows a sequence, it does not take one
    same_seq = (
        await conn.execute(
            select(events.c.event_id, events.c.content_hash).where(
                events.c.tenant == rec.tenant,
                events.c.case_id == rec.case_id,
                events.c.sequence == rec.sequence,
                events.c.source != EventSource.INTERNAL.value,
                _LIVE,
            )
        )
    ).first()
    if same_seq is not None and same_seq.event_id == rec.event_id:
        # The event itself, committed by a concurrent insert between the two reads above.
        return _same_event(rec, same_seq.content_hash)
    if same_seq is not None:
        return (
            InsertOutcome.CONFLICT,
            "sequence",
            f"conflict: sequence {rec.sequence} of case {rec.tenant}/{rec.case_id} "
            f"already holds event {same_seq.event_id}",
        )
    return None


async def apply_event_state(
    conn: AsyncConnection, event_row_id: int, state: EventState, reason: str | None, now: datetime
) -> int:
    """Set one event's state inside an open transaction; returns the rows changed."""
    values: dict[str, object] = {"state": state, "reason": reason}
    if state is EventState.PLANNED:
        values["planned_at"] = now
    result = await conn.execute(update(events).where(events.c.id == event_row_id).values(values))
    return result.rowcount


class EventsRepo(RepoBase):
    """Inbound events: accepted, held, planned and rejected rows."""

    async def insert_event(self, rec: InboundEvent) -> InsertOutcome:
        """Store a valid event once; safe to call again and concurrently with the same event.

        - new `event_id` and free case sequence → stored as `accepted` → ``ACCEPTED``;
        - same `event_id` and `content_hash` as a stored event → nothing changes → ``DUPLICATE``;
        - same `event_id` with another hash, or the case's `sequence` taken by another
          event → a `rejected` row with field (`event_id` / `sequence`) and reason is
          stored instead (once per distinct conflicting content) → ``CONFLICT``.

        The unique indexes decide races: a concurrent insert that loses gets the winner's
        row on re-reading and reports duplicate or conflict.
        """
        (outcome,) = await self.insert_events([rec])
        return outcome

    async def insert_events(self, recs: Sequence[InboundEvent]) -> list[InsertOutcome]:
        """`insert_event` for many events in ONE transaction (a file's lines, a feed page).

        Each event is judged as if stored alone, in order (a later event of the batch sees
        the earlier ones); one outcome per event.
        """
        now = self._db.clock()

        async def one(conn: AsyncConnection, rec: InboundEvent) -> InsertOutcome:
            found = await _classify(conn, rec)
            if found is None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            events.insert().values(
                                **rec.model_dump(), state=EventState.ACCEPTED, received_at=now
                            )
                        )
                    return InsertOutcome.ACCEPTED
                except IntegrityError:
                    found = await _classify(conn, rec)
                    if found is None:
                        raise
            outcome, field, reason = found
            if outcome is InsertOutcome.CONFLICT:
                await self._store_conflict(conn, rec, field, reason or "conflict")
            return outcome

        async def tx(conn: AsyncConnection) -> list[InsertOutcome]:
            return [await one(conn, rec) for rec in recs]

        if not recs:
            return []
        return await self._db.write(tx)

    async def conflict_field(self, rec: InboundEvent) -> str | None:
        """The field a conflict of `rec` is on (`event_id` or `sequence`); None if it is none."""

        async def tx(conn: AsyncConnection) -> str | None:
            found = await _classify(conn, rec)
            return found[1] if found is not None and found[0] is InsertOutcome.CONFLICT else None

        return await self._db.read(tx)

    async def _store_conflict(
        self, conn: AsyncConnection, rec: InboundEvent, field: str | None, reason: str
    ) -> None:
        seen = (
            await conn.execute(
                select(events.c.id).where(
                    events.c.state == EventState.REJECTED.value,
                    events.c.tenant == rec.tenant,
                    events.c.event_id == rec.event_id,
                    events.c.content_hash == rec.content_hash,
                    events.c.reason == reason,
                )
            )
        ).first()
        if seen is None:
            await conn.execute(
                events.insert().values(
                    **rec.model_dump(),
                    state=EventState.REJECTED,
                    field=field,
                    reason=reason,
                    received_at=self._db.clock(),
                )
            )

    async def insert_rejected(self, rec: RejectedRecord) -> int:
        """Store refused input with its line/event_id, field and reason; returns the row id.

        Idempotent: the same input refused for the same reason from the same source is kept
        once (re-ingesting a file adds nothing); the existing row's id is returned.
        """
        values = rec.model_dump()
        values.update(state=EventState.REJECTED, received_at=self._db.clock())

        async def tx(conn: AsyncConnection) -> int:
            seen = (
                await conn.execute(
                    select(events.c.id).where(
                        events.c.state == EventState.REJECTED.value,
                        events.c.source == rec.source.value,
                        events.c.payload == rec.payload,
                        events.c.reason == rec.reason,
                    )
                )
            ).first()
            if seen is not None:
                return int(seen.id)
            result = await conn.execute(events.insert().values(values))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

        return await self._db.write(tx)

    async def get_event(self, row_id: int) -> StoredEvent | None:
        """One stored event by its row id."""

        async def tx(conn: AsyncConnection) -> StoredEvent | None:
            row = (await conn.execute(select(events).where(events.c.id == row_id))).first()
            return None if row is None else StoredEvent.model_validate(as_dict(row))

        return await self._db.read(tx)

    async def set_event_state(
        self, row_id: int, state: EventState, reason: str | None = None
    ) -> None:
        """Move one event to `state` (with the reason for held/rejected); sets `planned_at`.

        Raises `StoreError` when there is no such event.
        """
        now = self._db.clock()

        async def tx(conn: AsyncConnection) -> int:
            return await apply_event_state(conn, row_id, state, reason, now)

        if await self._db.write(tx) == 0:
            raise StoreError(f"no stored event with id {row_id}")

    async def list_events(
        self, state: EventState, tenant: str | None = None, limit: int = 100
    ) -> list[StoredEvent]:
        """Events in `state` (optionally of one tenant), oldest first, at most `limit`."""

        async def tx(conn: AsyncConnection) -> list[StoredEvent]:
            stmt = select(events).where(events.c.state == state.value)
            if tenant is not None:
                stmt = stmt.where(events.c.tenant == tenant)
            rows = await conn.execute(stmt.order_by(events.c.id).limit(limit))
            return [StoredEvent.model_validate(as_dict(r)) for r in rows]

        return await self._db.read(tx)

    async def events_for_case(
        self, tenant: str, case_id: str, *, include_rejected: bool = False
    ) -> list[StoredEvent]:
        """A case's events in sequence order (rejected rows last, only when asked for)."""

        async def tx(conn: AsyncConnection) -> list[StoredEvent]:
            stmt = select(events).where(events.c.tenant == tenant, events.c.case_id == case_id)
            if not include_rejected:
                stmt = stmt.where(_LIVE)
            stmt = stmt.order_by(
                (events.c.state == EventState.REJECTED.value), events.c.sequence, events.c.id
            )
            return [StoredEvent.model_validate(as_dict(r)) for r in await conn.execute(stmt)]

        return await self._db.read(tx)

    async def cases_with_events(
        self, states: Iterable[EventState] = (EventState.ACCEPTED,), tenant: str | None = None
    ) -> list[CaseKey]:
        """Cases that have events in any of `states` (the planner's work list), sorted."""
        wanted = [s.value for s in states]

        async def tx(conn: AsyncConnection) -> list[CaseKey]:
            stmt = (
                select(events.c.tenant, events.c.case_id)
                .where(events.c.state.in_(wanted), events.c.tenant.is_not(None))
                .group_by(events.c.tenant, events.c.case_id)
                .order_by(events.c.tenant, events.c.case_id)
            )
            if tenant is not None:
                stmt = stmt.where(events.c.tenant == tenant)
            return [CaseKey(tenant=r.tenant, case_id=r.case_id) for r in await conn.execute(stmt)]

        return await self._db.read(tx)

    async def count_events_by_state(self, tenant: str | None = None) -> dict[EventState, int]:
        """Number of events in each state (every state present, zeros included)."""
        counts = await self._event_counts(tenant)
        return {state: sum(n for (_, s), n in counts.items() if s is state) for state in EventState}

    async def event_counts_by_tenant(self) -> dict[str, dict[EventState, int]]:
        """Per tenant, the number of events in each state (rows without a tenant left out)."""
        out: dict[str, dict[EventState, int]] = {}
        for (tenant, state), n in (await self._event_counts(None)).items():
            if tenant is not None:
                out.setdefault(tenant, dict.fromkeys(EventState, 0))[state] = n
        return out

    async def _event_counts(self, tenant: str | None) -> dict[tuple[str | None, EventState], int]:
        async def tx(conn: AsyncConnection) -> dict[tuple[str | None, EventState], int]:
            stmt = select(events.c.tenant, events.c.state, func.count()).group_by(
                events.c.tenant, events.c.state
            )
            if tenant is not None:
                stmt = stmt.where(events.c.tenant == tenant)
            return {(r[0], EventState(r[1])): int(r[2]) for r in await conn.execute(stmt)}

        return await self._db.read(tx)
