"""The outbox contract: one suite, run on the memory, SQLite and PostgreSQL outboxes.

Order per case and target, one in flight per case and target, `waits_for`, leases and their
expiry into `unknown`, persisted `next_attempt_at`, parking, operator retry and skip, and
the counts the jobs report — the semantics the dispatcher's unit tests rely on when they
run on `adapter.store.memory`. PostgreSQL runs when STAFETT_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

from adapter.store import OperationState, Store, StoredOperation, Target
from adapter.store.memory import MemoryStore
from adapter.store.records import Completion
from tests.integration.conftest import FakeClock
from tests.support.outbox import queued as op

S = OperationState
Ports = MemoryStore | Store


def refs(claimed: list[StoredOperation]) -> list[str]:
    return [c.op_ref for c in claimed]


async def test_add_operations_is_idempotent_by_op_ref(ports: Ports) -> None:
    """Adding the same operations again adds nothing and keeps their order."""
    ops = [op(1), op(2)]
    assert await ports.outbox.add_operations(ops) == 2
    assert await ports.outbox.add_operations(ops) == 0
    stored = await ports.outbox.operations_for_case("modum", "C1")
    assert [s.op_ref for s in stored] == [o.op_ref for o in ops]
    assert stored[0].seq < stored[1].seq
    assert all(s.state is S.PENDING and s.attempts == 0 for s in stored)


async def test_claim_takes_the_oldest_of_each_case_and_target_only(
    ports: Ports, clock: FakeClock
) -> None:
    """One claim gives the head of each (case, target) queue, never a second of the same queue."""
    await ports.outbox.add_operations(
        [op(1), op(2), op(1, target=Target.P360), op(1, case="C2"), op(2, case="C2")]
    )
    claimed = await ports.outbox.claim_operations("w1", clock.now, limit=10)
    assert refs(claimed) == [
        op(1).op_ref,
        op(1, target=Target.P360).op_ref,
        op(1, case="C2").op_ref,
    ]
    assert all(c.state is S.IN_FLIGHT and c.lease_owner == "w1" for c in claimed)
    assert all(c.attempts == 1 for c in claimed)
    assert claimed[0].leased_until == clock.now + timedelta(seconds=60)
    assert await ports.outbox.claim_operations("w2", clock.now) == []


async def test_the_next_operation_runs_only_after_the_previous_is_done(
    ports: Ports, clock: FakeClock
) -> None:
    """Completing the head releases the next operation of the same case and target."""
    await ports.outbox.add_operations([op(1), op(2)])
    [first] = await ports.outbox.claim_operations("w1", clock.now)
    assert await ports.outbox.complete_operation(first.id, "w1", clock.now, remote_id="r1")
    [second] = await ports.outbox.claim_operations("w1", clock.now)
    assert second.op_ref == op(2).op_ref
    done = await ports.outbox.get_operation(first.id)
    assert done is not None and done.state is S.DONE and done.done_at == clock.now


async def test_claim_respects_limit_and_oldest_first(ports: Ports, clock: FakeClock) -> None:
    """`limit` caps a claim, and older cases are claimed before newer ones."""
    await ports.outbox.add_operations([op(1, case=f"C{i}") for i in range(5)])
    claimed = await ports.outbox.claim_operations("w1", clock.now, limit=2)
    assert refs(claimed) == [op(1, case="C0").op_ref, op(1, case="C1").op_ref]


async def test_a_backing_off_operation_holds_its_queue_until_due(
    ports: Ports, clock: FakeClock
) -> None:
    """After a transient failure the op waits for `next_attempt_at`; later ones wait behind it."""
    await ports.outbox.add_operations([op(1), op(2)])
    [first] = await ports.outbox.claim_operations("w1", clock.now)
    due = clock.now + timedelta(seconds=30)
    assert await ports.outbox.fail_operation(
        first.id, "w1", clock.now, error="503", next_attempt_at=due
    )
    assert await ports.outbox.claim_operations("w1", clock.now + timedelta(seconds=29)) == []
    [again] = await ports.outbox.claim_operations("w1", due)
    assert again.op_ref == first.op_ref
    assert again.attempts == 2
    assert again.last_error == "503"


async def test_parked_blocks_its_case_and_target_only(ports: Ports, clock: FakeClock) -> None:
    """A parked op holds later ops of its case and target; other targets and cases flow on."""
    await ports.outbox.add_operations(
        [op(1), op(2), op(1, target=Target.P360), op(2, target=Target.P360), op(1, case="C2")]
    )
    claimed = await ports.outbox.claim_operations("w1", clock.now)
    by_ref = {c.op_ref: c for c in claimed}
    assert await ports.outbox.park_operation(by_ref[op(1).op_ref].id, "w1", clock.now, error="422")
    for ref in (op(1, target=Target.P360).op_ref, op(1, case="C2").op_ref):
        assert await ports.outbox.complete_operation(by_ref[ref].id, "w1", clock.now)
    claimed = await ports.outbox.claim_operations("w1", clock.now)
    assert refs(claimed) == [op(2, target=Target.P360).op_ref]
    parked = await ports.outbox.list_parked()
    assert [(p.case_id, p.target, p.reason) for p in parked] == [("C1", Target.SAMSPILL, "422")]
    assert [str(k) for k in await ports.outbox.parked_cases()] == ["modum/C1"]


async def test_retry_and_skip_release_a_parked_queue(ports: Ports, clock: FakeClock) -> None:
    """An operator retry makes the parked op claimable; a skip lets the next one go."""
    await ports.outbox.add_operations([op(1), op(2)])
    [first] = await ports.outbox.claim_operations("w1", clock.now)
    await ports.outbox.park_operation(first.id, "w1", clock.now, error="422")
    assert await ports.outbox.retry_parked("modum", "C1", clock.now) == 1
    [again] = await ports.outbox.claim_operations("w1", clock.now)
    assert again.id == first.id
    await ports.outbox.park_operation(first.id, "w1", clock.now, error="422")
    assert await ports.outbox.skip_operation(first.id, clock.now)
    [second] = await ports.outbox.claim_operations("w1", clock.now)
    assert second.op_ref == op(2).op_ref
    assert not await ports.outbox.skip_operation(second.id, clock.now)  # in flight: not skippable


async def test_waits_for_holds_an_operation_until_the_other_is_done(
    ports: Ports, clock: FakeClock
) -> None:
    """An op naming another in `waits_for` is claimed only once that one is done."""
    case_op = op(1, target=Target.P360)
    doc = op(1, waits_for=case_op.op_ref)
    await ports.outbox.add_operations([doc, case_op])
    [claimed] = await ports.outbox.claim_operations("w1", clock.now)
    assert claimed.op_ref == case_op.op_ref
    assert await ports.outbox.claim_operations("w1", clock.now) == []
    await ports.outbox.complete_operation(claimed.id, "w1", clock.now, remote_id="2026/1")
    [released] = await ports.outbox.claim_operations("w1", clock.now)
    assert released.op_ref == doc.op_ref


async def test_a_released_wait_never_claims_beside_its_queues_in_flight_operation(
    ports: Ports, clock: FakeClock
) -> None:
    """A log line freed by its archive document while a later Samspill op of the case is in
    flight stays put, and the other cases' due operations are still claimed."""
    document = op(1, target=Target.P360)
    line = op(1, waits_for=document.op_ref)  # holds no later Samspill op while it waits
    later = op(2)
    await ports.outbox.add_operations([document, line, later])
    claimed = await ports.outbox.claim_operations("w1", clock.now)
    assert refs(claimed) == [document.op_ref, later.op_ref]
    assert await ports.outbox.complete_operation(claimed[0].id, "w1", clock.now)
    other = op(1, case="C2")
    await ports.outbox.add_operations([other])

    assert refs(await ports.outbox.claim_operations("w1", clock.now)) == [other.op_ref]
    assert await ports.outbox.complete_operation(claimed[1].id, "w1", clock.now)
    assert refs(await ports.outbox.claim_operations("w1", clock.now)) == [line.op_ref]


async def test_waits_for_an_unknown_op_ref_waits(ports: Ports, clock: FakeClock) -> None:
    """`waits_for` naming an op_ref never stored keeps the operation waiting."""
    await ports.outbox.add_operations([op(1, waits_for="stafett:modum:C1:ensure-case:nope")])
    assert await ports.outbox.claim_operations("w1", clock.now) == []


async def test_expired_lease_is_taken_over_as_unknown(ports: Ports, clock: FakeClock) -> None:
    """A lease that ran out makes the op `unknown` with `may_exist`; another worker takes it
    and the old holder can no longer record a result."""
    await ports.outbox.add_operations([op(1)])
    [mine] = await ports.outbox.claim_operations("w1", clock.now, lease_s=30)
    assert await ports.outbox.release_expired_leases(clock.advance(29)) == []
    assert await ports.outbox.release_expired_leases(clock.advance(2)) == [mine.op_ref]
    released = await ports.outbox.get_operation(mine.id)
    assert released is not None and released.state is S.UNKNOWN and released.may_exist
    [theirs] = await ports.outbox.claim_operations("w2", clock.now)
    assert theirs.id == mine.id and theirs.may_exist and theirs.lease_owner == "w2"
    assert not await ports.outbox.complete_operation(mine.id, "w1", clock.now, remote_id="x")
    assert await ports.outbox.complete_operation(theirs.id, "w2", clock.now, remote_id="x")


async def test_extend_lease_keeps_the_operation(ports: Ports, clock: FakeClock) -> None:
    """A heartbeat moves `leased_until`, so the lease does not expire on a long call."""
    await ports.outbox.add_operations([op(1)])
    [mine] = await ports.outbox.claim_operations("w1", clock.now, lease_s=30)
    assert await ports.outbox.extend_lease(mine.id, "w1", clock.now + timedelta(seconds=120))
    assert await ports.outbox.release_expired_leases(clock.advance(60)) == []
    assert not await ports.outbox.extend_lease(mine.id, "w2", clock.now)


async def test_unknown_outcome_is_retried_with_may_exist(ports: Ports, clock: FakeClock) -> None:
    """`mark_unknown` keeps the queue order and flags the next attempt to look up first."""
    await ports.outbox.add_operations([op(1), op(2)])
    [first] = await ports.outbox.claim_operations("w1", clock.now)
    due = clock.now + timedelta(seconds=5)
    assert await ports.outbox.mark_unknown(
        first.id, "w1", clock.now, error="timeout", next_attempt_at=due
    )
    assert await ports.outbox.claim_operations("w1", clock.now) == []
    [again] = await ports.outbox.claim_operations("w1", due)
    assert again.id == first.id and again.may_exist


async def test_complete_with_remote_id_records_the_link(ports: Ports, clock: FakeClock) -> None:
    """Completing a create with a `link` key stores internal → remote id in the same step."""
    await ports.outbox.add_operations([op(1, link="goal:G1")])
    [mine] = await ports.outbox.claim_operations("w1", clock.now)
    await ports.outbox.complete_operation(mine.id, "w1", clock.now, remote_id="goal-77", status=201)
    assert await ports.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "goal-77"
    done = await ports.outbox.get_operation_by_ref(mine.op_ref)
    assert done is not None and (done.remote_id, done.last_status) == ("goal-77", 201)


async def test_counts_and_oldest_pending_age(ports: Ports, clock: FakeClock) -> None:
    """Counts by state (zeros included) and the age of the oldest unfinished operation."""
    assert await ports.outbox.oldest_pending_age(clock.now) is None
    await ports.outbox.add_operations([op(1), op(1, case="C2", tenant="vardo")])
    [first, _] = await ports.outbox.claim_operations("w1", clock.now)
    await ports.outbox.complete_operation(first.id, "w1", clock.now)
    counts = await ports.outbox.count_operations_by_state()
    assert counts[S.DONE] == 1 and counts[S.IN_FLIGHT] == 1 and counts[S.PARKED] == 0
    assert (await ports.outbox.count_operations_by_state("modum"))[S.IN_FLIGHT] == 0
    assert (await ports.outbox.operation_counts_by_tenant())["vardo"][S.IN_FLIGHT] == 1
    assert await ports.outbox.oldest_pending_age(clock.now + timedelta(minutes=5)) == timedelta(
        minutes=5
    )


async def test_concurrent_claimers_never_share_an_operation(ports: Ports, clock: FakeClock) -> None:
    """Four workers claiming and completing at once: every op runs once, in order per queue."""
    ops = [
        op(n, case=f"C{c}", target=t)
        for c in range(12)
        for t in (Target.SAMSPILL, Target.P360)
        for n in range(3)
    ]
    await ports.outbox.add_operations(ops)
    seen: list[str] = []
    completed: dict[tuple[str, Target], list[int]] = defaultdict(list)

    async def worker(name: str) -> None:
        idle = 0
        while idle < 3:
            claimed = await ports.outbox.claim_operations(name, clock.now, limit=4)
            idle = idle + 1 if not claimed else 0
            for c in claimed:
                seen.append(c.op_ref)
                assert await ports.outbox.complete_operation(c.id, name, clock.now)
                completed[(c.case_id, c.target)].append(c.id)

    await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    assert sorted(seen) == sorted(o.op_ref for o in ops)
    assert all(ids == sorted(ids) for ids in completed.values())


async def test_one_turn_records_a_success_and_claims_the_next_of_its_queue(
    ports: Ports, clock: FakeClock
) -> None:
    """`settle` records what finished and claims what it freed, in the same turn."""
    await ports.outbox.add_operations([op(1, link="goal:G1"), op(2)])
    [first] = await ports.outbox.claim_operations("w1", clock.now)
    recorded, claimed = await ports.outbox.settle(
        [Completion(first.id, "goal-1", 201, {"extra:X": "x-1"})], "w1", clock.now, claim=4
    )
    assert recorded == [True]
    assert refs(claimed) == [op(2).op_ref]
    links = await ports.links.get_links(
        "modum", "C1", Target.SAMSPILL, ["goal:G1", "extra:X", "goal:none"]
    )
    assert links == {"goal:G1": "goal-1", "extra:X": "x-1"}


async def test_a_turn_never_records_a_success_whose_lease_was_lost(
    ports: Ports, clock: FakeClock
) -> None:
    """Another owner's completion is refused and changes nothing; the holder's still counts."""
    await ports.outbox.add_operations([op(1, link="goal:G1")])
    [mine] = await ports.outbox.claim_operations("w1", clock.now)
    recorded, _ = await ports.outbox.settle(
        [Completion(mine.id, "stolen")], "w2", clock.now, claim=0
    )
    assert recorded == [False]
    assert await ports.links.get_links("modum", "C1", Target.SAMSPILL, ["goal:G1"]) == {}
    assert not await ports.outbox.fail_operation(
        mine.id, "w2", clock.now, error="x", next_attempt_at=clock.now
    )
    assert not await ports.outbox.park_operation(mine.id, "w2", clock.now, error="x")
    assert not await ports.outbox.mark_unknown(
        mine.id, "w2", clock.now, error="x", next_attempt_at=clock.now
    )
    stored = await ports.outbox.get_operation(mine.id)
    assert stored is not None and stored.state is S.IN_FLIGHT and stored.lease_owner == "w1"


async def test_unclaim_gives_back_without_counting_the_attempt(
    ports: Ports, clock: FakeClock
) -> None:
    """Claimed ahead and never started: back to waiting (unknown stays unknown), attempts as
    before, claimable again at once by anyone."""
    await ports.outbox.add_operations([op(1), op(1, case="C2")])
    first, second = await ports.outbox.claim_operations("w1", clock.now)
    assert await ports.outbox.mark_unknown(
        second.id, "w1", clock.now, error="timeout", next_attempt_at=clock.now
    )
    [second] = await ports.outbox.claim_operations("w1", clock.now)
    assert await ports.outbox.unclaim_operations([first.id, second.id], "w1") == 2
    assert await ports.outbox.unclaim_operations([first.id], "w1") == 0  # no longer held
    states = {o.case_id: o for o in await ports.outbox.operations_for_case("modum", "C1")}
    states |= {o.case_id: o for o in await ports.outbox.operations_for_case("modum", "C2")}
    assert (states["C1"].state, states["C1"].attempts) == (S.PENDING, 0)
    assert (states["C2"].state, states["C2"].attempts, states["C2"].may_exist) == (
        S.UNKNOWN,
        1,
        True,
    )
    assert states["C1"].lease_owner is None
    assert len(await ports.outbox.claim_operations("w2", clock.now)) == 2


async def test_extend_leases_answers_the_ones_still_held(ports: Ports, clock: FakeClock) -> None:
    """A heartbeat learns which leases it still has: one taken over is missing."""
    await ports.outbox.add_operations([op(1), op(1, case="C2")])
    kept, lost = await ports.outbox.claim_operations("w1", clock.now, lease_s=30)
    clock.advance(10)
    assert await ports.outbox.extend_leases([kept.id], "w1", clock.now + timedelta(seconds=60))
    assert await ports.outbox.release_expired_leases(clock.advance(25)) == [lost.op_ref]
    [taken] = await ports.outbox.claim_operations("w2", clock.now)
    assert taken.id == lost.id
    until = clock.now + timedelta(seconds=30)
    assert await ports.outbox.extend_leases([kept.id, lost.id], "w1", until) == {kept.id}


async def test_defer_holds_one_tenant_and_target_until_the_rate_limit_ends(
    ports: Ports, clock: FakeClock
) -> None:
    """A 429's pause moves the waiting operations of that tenant and target only, and never
    brings a later retry forward."""
    late = clock.now + timedelta(minutes=10)
    await ports.outbox.add_operations(
        [op(1), op(1, case="C2"), op(1, case="C3"), op(1, target=Target.P360)]
    )
    await ports.outbox.add_operations([op(1, tenant="vardo")])
    claimed = {
        c.case_id + c.target + c.tenant: c
        for c in await ports.outbox.claim_operations("w1", clock.now)
    }
    later_retry = claimed["C3samspillmodum"]
    assert await ports.outbox.fail_operation(
        later_retry.id, "w1", clock.now, error="x", next_attempt_at=late
    )
    assert await ports.outbox.unclaim_operations(
        [c.id for c in claimed.values() if c.id != later_retry.id], "w1"
    )
    until = clock.now + timedelta(seconds=30)
    assert await ports.outbox.defer_operations("modum", Target.SAMSPILL, until) == 2
    due_now = await ports.outbox.claim_operations("w1", clock.now)
    assert sorted((c.tenant, c.target) for c in due_now) == [
        ("modum", Target.P360),
        ("vardo", Target.SAMSPILL),
    ]
    assert refs(await ports.outbox.claim_operations("w1", until)) == [
        op(1).op_ref,
        op(1, case="C2").op_ref,
    ]
    held = await ports.outbox.operations_for_case("modum", "C3")
    assert held[0].next_attempt_at == late


async def test_a_line_waiting_for_the_archive_holds_only_the_plan_close(
    ports: Ports, clock: FakeClock
) -> None:
    """A Samspill operation waiting for a 360 one lets later Samspill work run, but not the
    operation that ends the plan; in the archive queue a wait holds everything after it."""
    document = op(1, target=Target.P360)
    line = op(1, waits_for=document.op_ref)
    goal = op(2)
    close = op(3, closes_plan=True)
    await ports.outbox.add_operations([line, goal, close])  # the document is not there yet
    [claimed] = await ports.outbox.claim_operations("w1", clock.now)
    assert claimed.op_ref == goal.op_ref
    assert await ports.outbox.complete_operation(claimed.id, "w1", clock.now)
    assert await ports.outbox.claim_operations("w1", clock.now) == []
    await ports.outbox.add_operations([document])
    [doc] = await ports.outbox.claim_operations("w1", clock.now)
    assert await ports.outbox.complete_operation(doc.id, "w1", clock.now)
    [released] = await ports.outbox.claim_operations("w1", clock.now)
    assert released.op_ref == line.op_ref
    assert await ports.outbox.complete_operation(released.id, "w1", clock.now)
    assert refs(await ports.outbox.claim_operations("w1", clock.now)) == [close.op_ref]


async def test_an_archive_wait_holds_its_whole_archive_queue(
    ports: Ports, clock: FakeClock
) -> None:
    """In the 360 queue a waiting operation is an open one: later archive work waits."""
    archive_wait = op(1, target=Target.P360, waits_for="stafett:modum:C1:create-goal:item9")
    await ports.outbox.add_operations([archive_wait, op(2, target=Target.P360), op(9)])
    assert refs(await ports.outbox.claim_operations("w1", clock.now)) == [op(9).op_ref]


async def test_next_due_at_leaves_out_what_is_held_behind(ports: Ports, clock: FakeClock) -> None:
    """Nothing waits: None. A retry due later: its time, not the undated operation behind it.
    An undated, unheld operation: due now."""
    assert await ports.outbox.next_due_at() is None
    await ports.outbox.add_operations([op(1), op(2)])
    [first] = await ports.outbox.claim_operations("w1", clock.now)
    due = clock.now + timedelta(seconds=40)
    assert await ports.outbox.fail_operation(
        first.id, "w1", clock.now, error="503", next_attempt_at=due
    )
    assert await ports.outbox.next_due_at() == due
    await ports.outbox.add_operations([op(1, case="C2")])
    assert await ports.outbox.next_due_at() == clock.now


async def test_counts_per_queue_include_every_state(ports: Ports, clock: FakeClock) -> None:
    """The gauges' counts: per (tenant, target), every state present."""
    await ports.outbox.add_operations([op(1), op(2), op(1, target=Target.P360)])
    [first, _] = await ports.outbox.claim_operations("w1", clock.now)
    assert await ports.outbox.park_operation(first.id, "w1", clock.now, error="422")
    counts = await ports.outbox.operation_counts_by_queue()
    assert set(counts) == {("modum", Target.SAMSPILL), ("modum", Target.P360)}
    samspill = counts[("modum", Target.SAMSPILL)]
    assert (samspill[S.PARKED], samspill[S.PENDING], samspill[S.DONE]) == (1, 1, 0)
    assert counts[("modum", Target.P360)][S.IN_FLIGHT] == 1
