"""Retention: the personal data of a closed case is purged once its time has passed.

Domain rule 8: the store holds event payloads with names and nins; a tenant's
`retention_days` after a case closes they go. What stays is what an operator needs to
explain the past: ids, types, sequences, states, the links to remote items and the audit
trail. A case is purged only when nothing of it still waits to be sent (no operation
pending, in flight, of unknown outcome or parked), so no remote effect loses its data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.store._base import RepoBase, as_dict
from adapter.store.audit_repo import Actor, _audit_tx
from adapter.store.records import CaseRecord
from adapter.store.states import EventState, OperationState
from adapter.store.tables import cases, events, operations

__all__ = [
    "PURGED_PAYLOAD",
    "CutOutcome",
    "PurgeOutcome",
    "RetentionRepo",
    "purged_event_payload",
]

PURGED_PAYLOAD = '{"purged":true}'
"""What an operation's payload (or an unreadable event's) becomes."""

_ENVELOPE_KEYS = ("event_id", "schema_version", "tenant", "case_id", "sequence", "type")
_UNFINISHED = [
    OperationState.PENDING.value,
    OperationState.IN_FLIGHT.value,
    OperationState.UNKNOWN.value,
    OperationState.PARKED.value,
]


def purged_event_payload(payload: str) -> str:
    """The envelope ids of a stored event (no actor, no data, no time), marked purged."""
    try:
        raw = json.loads(payload)
    except ValueError:
        return PURGED_PAYLOAD
    if not isinstance(raw, dict):
        return PURGED_PAYLOAD
    kept = {k: raw[k] for k in _ENVELOPE_KEYS if isinstance(raw.get(k), str | int)}
    return json.dumps({**kept, "purged": True}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class PurgeOutcome:
    """What purging one case did (None from `purge_case`: it still has work waiting)."""

    events: int
    operations: int


@dataclass(frozen=True)
class CutOutcome:
    """What cutting stale rejected and held events to their ids did, per tenant (None:
    rows that name no tenant or one that is not configured)."""

    rejected: dict[str | None, int]
    held: dict[str | None, int]


_CUT_BATCH = 500
_NOT_CUT = events.c.payload.not_like('%"purged":true%')
HELD_CUT_REASON = (
    "held longer than the tenant's rejected_retention_days: its personal data was purged "
    "(retention); send the event again to apply it"
)


class RetentionRepo(RepoBase):
    """Finding closed cases and purging their personal data, each case in one transaction."""

    async def cut_stale_events(
        self, cutoffs: Mapping[str, datetime], *, default_cutoff: datetime, actor: Actor
    ) -> CutOutcome:
        """Cut rejected and held events received before their tenant's cutoff to their ids.

        `cutoffs` maps a configured tenant to its cutoff; a row that names no tenant, or one
        not configured (an unparseable line, an unknown tenant), uses `default_cutoff`. A
        rejected row keeps nothing of its payload (its ids were never validated); a held
        event keeps its envelope ids and becomes rejected with `HELD_CUT_REASON`, since
        it can no longer be applied. Batches of `_CUT_BATCH` rows, each one transaction
        with one audit row per tenant it touched.
        """
        rejected: dict[str | None, int] = {}
        held: dict[str | None, int] = {}
        latest = max([default_cutoff, *cutoffs.values()])
        after = 0

        async def tx(conn: AsyncConnection) -> int | None:
            rows = (
                await conn.execute(
                    select(
                        events.c.id,
                        events.c.tenant,
                        events.c.state,
                        events.c.payload,
                        events.c.received_at,
                    )
                    .where(
                        events.c.state.in_([EventState.REJECTED.value, EventState.HELD.value]),
                        events.c.received_at < latest,
                        events.c.id > after,
                        _NOT_CUT,
                    )
                    .order_by(events.c.id)
                    .limit(_CUT_BATCH)
                )
            ).all()
            if not rows:
                return None
            now = self._db.clock()
            touched: dict[str | None, dict[str, int]] = {}
            for row in rows:
                tenant = row.tenant if row.tenant in cutoffs else None
                cutoff = cutoffs[row.tenant] if tenant is not None else default_cutoff
                if row.received_at >= cutoff:
                    continue
                counts = touched.setdefault(tenant, {"rejected": 0, "held": 0})
                if row.state == EventState.HELD.value:
                    values = {
                        "payload": purged_event_payload(row.payload),
                        "state": EventState.REJECTED,
                        "reason": HELD_CUT_REASON,
                    }
                    counts["held"] += 1
                    held[tenant] = held.get(tenant, 0) + 1
                else:
                    values = {"payload": PURGED_PAYLOAD}
                    counts["rejected"] += 1
                    rejected[tenant] = rejected.get(tenant, 0) + 1
                await conn.execute(update(events).where(events.c.id == row.id).values(values))
            for tenant, counts in touched.items():
                await _audit_tx(
                    conn, now, "purge-stale-events", actor, tenant=tenant, details=counts
                )
            return int(rows[-1].id)

        while (last := await self._db.write(tx)) is not None:
            after = last
        return CutOutcome(rejected, held)

    async def closed_unpurged_cases(self) -> list[CaseRecord]:
        """Closed cases not purged yet, oldest closing first."""

        async def tx(conn: AsyncConnection) -> list[CaseRecord]:
            stmt = (
                select(cases)
                .where(cases.c.closed_at.is_not(None), cases.c.purged_at.is_(None))
                .order_by(cases.c.closed_at, cases.c.tenant, cases.c.case_id)
            )
            return [CaseRecord.model_validate(as_dict(r)) for r in await conn.execute(stmt)]

        return await self._db.read(tx)

    async def purge_case(
        self, record: CaseRecord, *, state: str, actor: Actor
    ) -> PurgeOutcome | None:
        """Replace the case's personal data by ids (`state`: its purged planner state).

        None, with nothing written, when an operation of the case is unfinished or the case
        changed since `record` was read (the next run tries again).
        """
        now = self._db.clock()
        key = (cases.c.tenant == record.tenant, cases.c.case_id == record.case_id)
        of_case = (events.c.tenant == record.tenant, events.c.case_id == record.case_id)
        ops_of_case = (
            operations.c.tenant == record.tenant,
            operations.c.case_id == record.case_id,
        )

        async def tx(conn: AsyncConnection) -> PurgeOutcome | None:
            waiting = (
                await conn.execute(
                    select(func.count())
                    .select_from(operations)
                    .where(*ops_of_case, operations.c.state.in_(_UNFINISHED))
                )
            ).scalar_one()
            if waiting:
                return None
            saved = await conn.execute(
                update(cases)
                .where(*key, cases.c.version == record.version, cases.c.purged_at.is_(None))
                .values(state=state, purged_at=now, updated_at=now, version=record.version + 1)
            )
            if saved.rowcount != 1:
                return None
            rows = (
                await conn.execute(
                    select(events.c.id, events.c.payload, events.c.state).where(*of_case)
                )
            ).all()
            for row in rows:
                # a refused row's "ids" were never validated: nothing of it is kept
                kept = (
                    PURGED_PAYLOAD
                    if row.state == EventState.REJECTED.value
                    else purged_event_payload(row.payload)
                )
                await conn.execute(update(events).where(events.c.id == row.id).values(payload=kept))
            changed = await conn.execute(
                update(operations)
                .where(*ops_of_case)
                .values(payload=PURGED_PAYLOAD, last_error=None, updated_at=now)
            )
            outcome = PurgeOutcome(events=len(rows), operations=changed.rowcount)
            await _audit_tx(
                conn,
                now,
                "purge",
                actor,
                tenant=record.tenant,
                case_id=record.case_id,
                details={"events": outcome.events, "operations": outcome.operations},
            )
            return outcome

        return await self._db.write(tx)
