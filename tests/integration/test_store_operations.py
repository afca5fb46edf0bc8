"""The outbox on every backend: claim order per case and target, leases, parking, waits_for."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta
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


async def test_claim_takes_the_oldest_of_each_case_and_target_only(
    store: Store, clock: FakeClock
) -> None:
    """One claim gives the head of each (case, target) queue, never a second of the same queue."""
    await store.outbox.add_operations(
        [op(1), op(2), op(1, target=Target.P360), op(1, case="C2"), op(2, case="C2")]
    )
    claimed = await store.outbox.claim_operations("w1", clock.now, limit=10)
    assert refs(claimed) == [
        op(1).op_ref,
        op(1, target=Target.P360).op_ref,
        op(1, case="C2").op_ref,
    ]
    assert all(c.state is S.IN_FLIGHT and c.lease_owner == "w1" for c in claimed)
    assert all(c.attempts == 1 for c in claimed)
    assert claimed[0].leased_until == clock.now + timedelta(seconds=60)
    assert await store.outbox.claim_operations("w2", clock.now) == []


async def test_the_next_operation_runs_only_after_the_previous_is_done(
    store: Store, clock: FakeClock
) -> None:
    """Completing the head releases the next operation of the same case and target."""
    await store.outbox.add_operations([op(1), op(2)])
    [first] = await store.outbox.claim_operations("w1", clock.now)
    assert await store.outbox.complete_operation(first.id, "w1", clock.now, remote_id="r1")
    [second] = await store.outbox.claim_operations("w1", clock.now)
    assert second.op_ref == op(2).op_ref
    done = await store.outbox.get_operation(first.id)
    assert done is not None and done.state is S.DONE and done.done_at == clock.now


async def test_claim_respects_limit_and_oldest_first(store: Store, clock: FakeClock) -> None:
    """`limit` caps a claim, and older cases are claimed before newer ones."""
    await store.outbox.add_operations([op(1, case=f"C{i}") for i in range(5)])
    claimed = await store.outbox.claim_operations("w1", clock.now, limit=2)
    assert refs(claimed) == [op(1, case="C0").op_ref, op(1, case="C1").op_ref]


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


async def test_a_backing_off_operation_holds_its_queue_until_due(
    store: Store, clock: FakeClock
) -> None:
    """After a transient failure the op waits for `next_attempt_at`; later ones wait behind it."""
    await store.outbox.add_operations([op(1), op(2)])
    [first] = await store.outbox.claim_operations("w1", clock.now)
    due = clock.now + timedelta(seconds=30)
    assert await store.outbox.fail_operation(
        first.id, "w1", clock.now, error="503", next_attempt_at=due
    )
    assert await store.outbox.claim_operations("w1", clock.now + timedelta(seconds=29)) == []
    [again] = await store.outbox.claim_operations("w1", due)
    assert again.op_ref == first.op_ref
    assert again.attempts == 2
    assert again.last_error == "503"


async def test_parked_blocks_its_case_and_target_only(store: Store, clock: FakeClock) -> None:
    """A parked op holds later ops of its case and target; other targets and cases flow on."""
    await store.outbox.add_operations(
        [op(1), op(2), op(1, target=Target.P360), op(2, target=Target.P360), op(1, case="C2")]
    )
    claimed = await store.outbox.claim_operations("w1", clock.now)
    by_ref = {c.op_ref: c for c in claimed}
    assert await store.outbox.park_operation(by_ref[op(1).op_ref].id, "w1", clock.now, error="422")
    for ref in (op(1, target=Target.P360).op_ref, op(1, case="C2").op_ref):
        assert await store.outbox.complete_operation(by_ref[ref].id, "w1", clock.now)
    claimed = await store.outbox.claim_operations("w1", clock.now)
    assert refs(claimed) == [op(2, target=Target.P360).op_ref]
    parked = await store.outbox.list_parked()
    assert [(p.case_id, p.target, p.reason) for p in parked] == [("C1", Target.SAMSPILL, "422")]
    assert [str(k) for k in await store.outbox.parked_cases()] == ["modum/C1"]


async def test_retry_and_skip_release_a_parked_queue(store: Store, clock: FakeClock) -> None:
    """An operator retry makes the parked op claimable; a skip lets the next one go."""
    await store.outbox.add_operations([op(1), op(2)])
    [first] = await store.outbox.claim_operations("w1", clock.now)
    await store.outbox.park_operation(first.id, "w1", clock.now, error="422")
    assert await store.outbox.retry_parked("modum", "C1", clock.now) == 1
    [again] = await store.outbox.claim_operations("w1", clock.now)
    assert again.id == first.id
    await store.outbox.park_operation(first.id, "w1", clock.now, error="422")
    assert await store.outbox.skip_operation(first.id, clock.now)
    [second] = await store.outbox.claim_operations("w1", clock.now)
    assert second.op_ref == op(2).op_ref
    assert not await store.outbox.skip_operation(second.id, clock.now)  # in flight: not skippable


async def test_waits_for_holds_an_operation_until_the_other_is_done(
    store: Store, clock: FakeClock
) -> None:
    """An op naming another in `waits_for` is claimed only once that one is done."""
    case_op = op(1, target=Target.P360)
    doc = op(1, waits_for=case_op.op_ref)
    await store.outbox.add_operations([doc, case_op])
    [claimed] = await store.outbox.claim_operations("w1", clock.now)
    assert claimed.op_ref == case_op.op_ref
    assert await store.outbox.claim_operations("w1", clock.now) == []
    await store.outbox.complete_operation(claimed.id, "w1", clock.now, remote_id="2026/1")
    [released] = await store.outbox.claim_operations("w1", clock.now)
    assert released.op_ref == doc.op_ref


async def test_a_released_wait_never_claims_beside_its_queues_in_flight_operation(
    store: Store, clock: FakeClock
) -> None:
    """A log line freed by its archive document while a later Samspill op of the case is in
    flight stays put, and the other cases' due operations are still claimed."""
    document = op(1, target=Target.P360)
    line = op(1, waits_for=document.op_ref)  # holds no later Samspill op while it waits
    later = op(2)
    await store.outbox.add_operations([document, line, later])
    claimed = await store.outbox.claim_operations("w1", clock.now)
    assert refs(claimed) == [document.op_ref, later.op_ref]
    assert await store.outbox.complete_operation(claimed[0].id, "w1", clock.now)
    other = op(1, case="C2")
    await store.outbox.add_operations([other])

    assert refs(await store.outbox.claim_operations("w1", clock.now)) == [other.op_ref]
    assert await store.outbox.complete_operation(claimed[1].id, "w1", clock.now)
    assert refs(await store.outbox.claim_operations("w1", clock.now)) == [line.op_ref]


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


async def test_waits_for_an_unknown_op_ref_waits(store: Store, clock: FakeClock) -> None:
    """`waits_for` naming an op_ref never stored keeps the operation waiting."""
    await store.outbox.add_operations([op(1, waits_for="stafett:modum:C1:ensure-case:nope")])
    assert await store.outbox.claim_operations("w1", clock.now) == []


async def test_expired_lease_is_taken_over_as_unknown(store: Store, clock: FakeClock) -> None:
    """A lease that ran out makes the op `unknown` with `may_exist`; another worker takes it
    and the old holder can no longer record a result."""
    await store.outbox.add_operations([op(1)])
    [mine] = await store.outbox.claim_operations("w1", clock.now, lease_s=30)
    assert await store.outbox.release_expired_leases(clock.advance(29)) == []
    assert await store.outbox.release_expired_leases(clock.advance(2)) == [mine.op_ref]
    released = await store.outbox.get_operation(mine.id)
    assert released is not None and released.state is S.UNKNOWN and released.may_exist
    [theirs] = await store.outbox.claim_operations("w2", clock.now)
    assert theirs.id == mine.id and theirs.may_exist and theirs.lease_owner == "w2"
    assert not await store.outbox.complete_operation(mine.id, "w1", clock.now, remote_id="x")
    assert await store.outbox.complete_operation(theirs.id, "w2", clock.now, remote_id="x")


async def test_extend_lease_keeps_the_operation(store: Store, clock: FakeClock) -> None:
    """A heartbeat moves `leased_until`, so the lease does not expire on a long call."""
    await store.outbox.add_operations([op(1)])
    [mine] = await store.outbox.claim_operations("w1", clock.now, lease_s=30)
    assert await store.outbox.extend_lease(mine.id, "w1", clock.now + timedelta(seconds=120))
    assert await store.outbox.release_expired_leases(clock.advance(60)) == []
    assert not await store.outbox.extend_lease(mine.id, "w2", clock.now)


async def test_unknown_outcome_is_retried_with_may_exist(store: Store, clock: FakeClock) -> None:
    """`mark_unknown` keeps the queue order and flags the next attempt to look up first."""
    await store.outbox.add_operations([op(1), op(2)])
    [first] = await store.outbox.claim_operations("w1", clock.now)
    due = clock.now + timedelta(seconds=5)
    assert await store.outbox.mark_unknown(
        first.id, "w1", clock.now, error="timeout", next_attempt_at=due
    )
    assert await store.outbox.claim_operations("w1", clock.now) == []
    [again] = await store.outbox.claim_operations("w1", due)
    assert again.id == first.id and again.may_exist


async def test_complete_with_remote_id_records_the_link(store: Store, clock: FakeClock) -> None:
    """Completing a create with a `link` key stores internal → remote id in the same step."""
    await store.outbox.add_operations([op(1, link="goal:G1")])
    [mine] = await store.outbox.claim_operations("w1", clock.now)
    await store.outbox.complete_operation(mine.id, "w1", clock.now, remote_id="goal-77", status=201)
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "goal-77"
    done = await store.outbox.get_operation_by_ref(mine.op_ref)
    assert done is not None and (done.remote_id, done.last_status) == ("goal-77", 201)


async def test_counts_and_oldest_pending_age(store: Store, clock: FakeClock) -> None:
    """Counts by state (zeros included) and the age of the oldest unfinished operation."""
    assert await store.outbox.oldest_pending_age(clock.now) is None
    await store.outbox.add_operations([op(1), op(1, case="C2", tenant="vardo")])
    [first, _] = await store.outbox.claim_operations("w1", clock.now)
    await store.outbox.complete_operation(first.id, "w1", clock.now)
    counts = await store.outbox.count_operations_by_state()
    assert counts[S.DONE] == 1 and counts[S.IN_FLIGHT] == 1 and counts[S.PARKED] == 0
    assert (await store.outbox.count_operations_by_state("modum"))[S.IN_FLIGHT] == 0
    assert (await store.outbox.operation_counts_by_tenant())["vardo"][S.IN_FLIGHT] == 1
    assert await store.outbox.oldest_pending_age(clock.now + timedelta(minutes=5)) == timedelta(
        minutes=5
    )


async def test_concurrent_claimers_never_share_an_operation(store: Store, clock: FakeClock) -> None:
    """Four workers claiming and completing at once: every op runs once, in order per queue."""
    ops = [
        op(n, case=f"C{c}", target=t)
        for c in range(12)
        for t in (Target.SAMSPILL, Target.P360)
        for n in range(3)
    ]
    await store.outbox.add_operations(ops)
    seen: list[str] = []
    completed: dict[tuple[str, Target], list[int]] = defaultdict(list)

    async def worker(name: str) -> None:
        idle = 0
        while idle < 3:
            claimed = await store.outbox.claim_operations(name, clock.now, limit=4)
            idle = idle + 1 if not claimed else 0
            for c in claimed:
                seen.append(c.op_ref)
                assert await store.outbox.complete_operation(c.id, name, clock.now)
                completed[(c.case_id, c.target)].append(c.id)

    await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    assert sorted(seen) == sorted(o.op_ref for o in ops)
    assert all(ids == sorted(ids) for ids in completed.values())


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
