"""The SQL outbox itself: stored payload text, the in-flight index, a lost claim race, the
claim's index (the semantics every outbox shares are in `test_outbox_contract.py`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine, event, text, update
from sqlalchemy.exc import IntegrityError

from adapter.planning.operations import Operation, OpKind, op_ref
from adapter.store import OperationState, Store, StoredOperation, Target, open_store
from adapter.store.tables import operations
from tests.integration.conftest import FakeClock

S = OperationState
_LOCK_WAITERS = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
KIND = {Target.SAMSPILL: OpKind.CREATE_GOAL, Target.P360: OpKind.CREATE_DOCUMENT}


def op(
    n: int,
    *,
    case: str = "C1",
    target: Target = Target.SAMSPILL,
    tenant: str = "modum",
    waits_for: str | None = None,
    link: str | None = None,
) -> Operation:
    """Operation number `n` of a case towards `target`."""
    kind = KIND[target]
    return Operation(
        op_ref=op_ref(tenant, case, kind.value, f"item{n}"),
        tenant=tenant,
        case_id=case,
        target=target,
        kind=kind,
        link=link,
        payload={"n": n},
        waits_for=waits_for,
    )


def refs(claimed: list[StoredOperation]) -> list[str]:
    return [c.op_ref for c in claimed]


async def test_add_operations_is_idempotent_by_op_ref(store: Store) -> None:
    """Adding the same operations again adds nothing and keeps their order and payload."""
    ops = [op(1), op(2)]
    assert await store.outbox.add_operations(ops) == 2
    assert await store.outbox.add_operations(ops) == 0
    stored = await store.outbox.operations_for_case("modum", "C1")
    assert [s.op_ref for s in stored] == [o.op_ref for o in ops]
    assert stored[0].seq < stored[1].seq
    assert stored[0].payload == '{"n":1}'
    assert all(s.state is S.PENDING for s in stored)


async def test_at_most_one_operation_in_flight_per_case_and_target(store: Store) -> None:
    """The database itself refuses a second in-flight operation of one case and target."""
    await store.outbox.add_operations([op(1), op(2), op(3, target=Target.P360)])
    async with store.engine.begin() as conn:
        await conn.execute(
            update(operations)
            .where(operations.c.op_ref.in_([op(1).op_ref, op(3, target=Target.P360).op_ref]))
            .values(state=S.IN_FLIGHT)
        )
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as conn:
            await conn.execute(
                update(operations)
                .where(operations.c.op_ref == op(2).op_ref)
                .values(state=S.IN_FLIGHT)
            )


async def test_a_claim_that_loses_the_in_flight_race_still_claims_the_other_cases(
    store: Store, clock: FakeClock
) -> None:
    """PostgreSQL: another replica takes the queue's other operation while this claim runs;
    the unique-index violation costs that one queue only, never the other case's claim."""
    if store.backend != "postgresql":
        pytest.skip("a concurrent claimer needs PostgreSQL")
    document = op(1, target=Target.P360)
    line, later, other = op(1, waits_for=document.op_ref), op(2), op(1, case="C2")
    await store.outbox.add_operations([document, line, later, other])
    first = await store.outbox.claim_operations("w0", clock.now)
    assert refs(first) == [document.op_ref, later.op_ref, other.op_ref]
    for claimed_op in first:  # the document is done, `later` and `other` due again
        if claimed_op.op_ref == document.op_ref:
            assert await store.outbox.complete_operation(claimed_op.id, "w0", clock.now)
        else:
            assert await store.outbox.fail_operation(
                claimed_op.id, "w0", clock.now, error="x", next_attempt_at=clock.now
            )
    later_id = first[1].id
    async with store.engine.connect() as rival:
        # another replica has taken `later` and not yet committed: its row is locked
        await rival.execute(
            update(operations)
            .where(operations.c.id == later_id)
            .values(state="in_flight", lease_owner="rival")
        )
        claim = asyncio.create_task(store.outbox.claim_operations("w1", clock.now))
        blocked = False
        async with store.engine.connect() as watcher:
            for _ in range(10_000):  # until the claim waits on the rival's in-flight index entry
                waiting = await watcher.execute(_LOCK_WAITERS)
                blocked = bool(waiting.scalar_one())
                await watcher.commit()  # a new transaction sees fresh activity statistics
                if blocked or claim.done():
                    break
        await rival.commit()
        claimed = await claim
    assert blocked, "the claim never met the rival's lock"
    assert refs(claimed) == [other.op_ref]


async def test_the_claim_reads_the_waiting_index_not_the_whole_table(
    sqlite_url: str, clock: FakeClock
) -> None:
    """The claim's candidate scan uses `ix_operations_waiting` (and the in-flight guard's
    index), so its cost does not grow with the operations already done: the statement as
    the store runs it, explained by SQLite, never scans `operations` itself."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT OPERATIONS.ID"):
            seen.append((statement, params))

    async with await open_store(sqlite_url, clock=clock) as store:
        await store.outbox.add_operations([op(n, case=f"C{n % 7}") for n in range(60)])
        event.listen(Engine, "before_cursor_execute", capture)  # whichever engine runs it
        try:
            assert await store.outbox.claim_operations("a", clock(), limit=4)
        finally:
            event.remove(Engine, "before_cursor_execute", capture)
        ((statement, params),) = seen
        async with store.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            cursor = await raw.driver_connection.execute(  # type: ignore[union-attr]
                f"EXPLAIN QUERY PLAN {statement}", params
            )
            plan = [row[3] for row in await cursor.fetchall()]
    assert "SCAN operations USING INDEX ix_operations_waiting" in plan
    assert not [step for step in plan if step in ("SCAN operations", "SCAN busy")]
    assert any("uq_operations_in_flight" in step for step in plan)
