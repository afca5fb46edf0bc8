"""The dispatcher on the in-memory outbox: what each outcome does to the queues.

No database: `adapter.store.memory` holds the same semantics as the SQL outbox (the
contract suite proves it), so these tests show the dispatcher's side of the promise —
order per case and target, parking that holds only its queue, ambiguous outcomes looked
up before any re-create, persisted backoff, and a lost lease that records nothing.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from adapter.dispatch.worker import Dispatcher
from adapter.errors import AmbiguousError, PermanentError, TransientError
from adapter.planning.operations import Operation, OpKind, Target
from adapter.planning.payloads import Payload
from adapter.settings import DispatchSettings
from adapter.store.memory import MemoryStore
from adapter.store.states import OperationState
from adapter.targets.result import Result
from tests.support.clock import FakeClock
from tests.support.outbox import queued
from tests.support.scripted_remote import Remote

S = OperationState
SEED = 7


async def _world(*cases: str) -> tuple[MemoryStore, FakeClock]:
    clock = FakeClock()
    store = MemoryStore(clock)
    for case in cases:
        await store.links.put_link("modum", case, Target.SAMSPILL, "plan:stafettlogg", f"P-{case}")
        await store.links.put_link("modum", case, Target.P360, "archive-case", f"A-{case}")
    return store, clock


def _dispatcher(
    store: MemoryStore,
    remote: object,
    clock: FakeClock,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    **settings: float,
) -> Dispatcher:
    return Dispatcher(
        store,
        lambda tenant, target: remote,  # type: ignore[arg-type,return-value]  # a fake
        owner="me",
        settings=DispatchSettings(**{"concurrency": 4, "in_call_attempts": 1, **settings}),
        clock=clock,
        rng=random.Random(SEED),
        sleep=sleep,
    )


async def _state(store: MemoryStore, op: Operation) -> OperationState:
    stored = await store.outbox.get_operation_by_ref(op.op_ref)
    assert stored is not None
    return stored.state


async def test_a_case_runs_in_order_per_target_and_its_targets_do_not_wait_on_each_other() -> None:
    """Samspill op 1 backs off: op 2 of that queue waits, the case's archive queue runs."""
    store, clock = await _world("C1")
    s1, s2 = queued(1), queued(2)
    a1, a2 = queued(1, target=Target.P360), queued(2, target=Target.P360)
    await store.outbox.add_operations([s1, s2, a1, a2])
    remote = Remote(script={s1.op_ref: [TransientError("503", status=503)]})

    report = await _dispatcher(store, remote, clock).run_pass()
    assert (report.retried, report.done) == (1, 2)
    assert remote.sent() == [s1.op_ref, a1.op_ref, a2.op_ref]
    assert await _state(store, s2) is S.PENDING

    clock.advance(3600)  # past any backoff
    remote.calls.clear()
    assert (await _dispatcher(store, remote, clock).run_pass()).done == 2
    assert remote.sent() == [s1.op_ref, s2.op_ref]


async def test_parking_holds_only_its_case_and_target() -> None:
    """A 422 parks C1's Samspill op; its next waits, C1's archive and C2 go; after an
    operator retry both run in order."""
    store, clock = await _world("C1", "C2")
    s1, s2 = queued(1), queued(2)
    archive, other = queued(1, target=Target.P360), queued(1, case="C2")
    await store.outbox.add_operations([s1, s2, archive, other])
    remote = Remote(script={s1.op_ref: [PermanentError("422: bad goal", status=422)]})

    report = await _dispatcher(store, remote, clock).run_pass()
    assert (report.parked, report.done) == (1, 2)
    assert sorted(remote.sent()) == sorted([s1.op_ref, archive.op_ref, other.op_ref])
    [parked] = await store.outbox.list_parked()
    assert (parked.op_ref, parked.reason) == (s1.op_ref, "PermanentError: 422: bad goal")
    assert await _state(store, s2) is S.PENDING

    assert await store.outbox.retry_parked("modum", "C1", clock.now) == 1
    remote.calls.clear()
    assert (await _dispatcher(store, remote, clock).run_pass()).done == 2
    assert remote.sent() == [s1.op_ref, s2.op_ref]


async def test_an_ambiguous_failure_is_unknown_and_looked_up_before_any_create() -> None:
    """A timeout after sending: `unknown`; the next attempt finds the item by op_ref and
    adopts it (its id linked) without creating it again."""
    store, clock = await _world("C1")
    goal = queued(1, link="goal:G1")
    await store.outbox.add_operations([goal])
    remote = Remote(script={goal.op_ref: [AmbiguousError("read timeout")]})

    report = await _dispatcher(store, remote, clock).run_pass()
    stored = await store.outbox.get_operation_by_ref(goal.op_ref)
    assert report.unknown == 1
    assert stored is not None and stored.state is S.UNKNOWN and stored.may_exist

    remote.existing[goal.op_ref] = Result(remote_id="goal-made-before")
    remote.calls.clear()
    clock.advance(3600)
    assert (await _dispatcher(store, remote, clock).run_pass()).done == 1
    assert remote.calls == [("lookup", goal.op_ref)]
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == (
        "goal-made-before"
    )


async def test_an_unknown_item_not_found_by_lookup_is_created_once() -> None:
    """The lookup finds nothing: then, and only then, the item is created."""
    store, clock = await _world("C1")
    goal = queued(1, link="goal:G1")
    await store.outbox.add_operations([goal])
    remote = Remote(script={goal.op_ref: [AmbiguousError("reset")]})
    await _dispatcher(store, remote, clock).run_pass()
    clock.advance(3600)
    remote.calls.clear()
    assert (await _dispatcher(store, remote, clock).run_pass()).done == 1
    assert remote.calls == [("lookup", goal.op_ref), ("execute", goal.op_ref)]


async def test_a_transient_failure_persists_its_jittered_backoff() -> None:
    """The next attempt time is stored: full jitter within the first backoff step, and the
    operation is not tried again before it."""
    store, clock = await _world("C1")
    goal = queued(1)
    await store.outbox.add_operations([goal])
    remote = Remote(script={goal.op_ref: [TransientError("503", status=503)]})
    await _dispatcher(store, remote, clock, backoff_base_s=2.0).run_pass()

    stored = await store.outbox.get_operation_by_ref(goal.op_ref)
    expected = clock.now + timedelta(seconds=random.Random(SEED).uniform(0.0, 2.0))
    assert stored is not None and stored.state is S.PENDING
    assert (stored.next_attempt_at, stored.last_status) == (expected, 503)
    assert await store.outbox.next_due_at() == expected
    assert (await _dispatcher(store, remote, clock).run_pass()).ran == 0


async def test_retry_after_sets_the_next_attempt() -> None:
    """A 503 with Retry-After 30 s: the next attempt is 30 s away, not sooner."""
    store, clock = await _world("C1")
    goal = queued(1)
    await store.outbox.add_operations([goal])
    busy = TransientError("503", status=503, retry_after=30.0)
    remote = Remote(script={goal.op_ref: [busy]})
    await _dispatcher(store, remote, clock).run_pass()
    stored = await store.outbox.get_operation_by_ref(goal.op_ref)
    assert stored is not None and stored.next_attempt_at == clock.now + timedelta(seconds=30)


async def test_a_429_pauses_the_tenants_queue_to_that_target_only() -> None:
    """The rate limit is the client's: every waiting Samspill op of the tenant waits until
    Retry-After, the tenant's archive queue does not."""
    store, clock = await _world("C1", "C2", "C3")
    limited, later = queued(1), queued(1, case="C2")
    archive = queued(1, case="C3", target=Target.P360)
    await store.outbox.add_operations([limited, later, archive])
    slow_down = TransientError("429", status=429, retry_after=120.0)
    remote = Remote(script={limited.op_ref: [slow_down]})

    await _dispatcher(store, remote, clock, concurrency=1).run_pass()
    assert remote.sent() == [limited.op_ref, archive.op_ref]
    paused = await store.outbox.get_operation_by_ref(later.op_ref)
    assert paused is not None and paused.next_attempt_at == clock.now + timedelta(seconds=120)
    assert await _state(store, archive) is S.DONE


async def test_a_missing_link_parks_without_calling_the_remote() -> None:
    """No plan was ever created for the case: the op parks with the reason, nothing is sent."""
    store, clock = await _world()
    goal = queued(1)
    await store.outbox.add_operations([goal])
    remote = Remote()
    assert (await _dispatcher(store, remote, clock).run_pass()).parked == 1
    assert remote.calls == []
    [parked] = await store.outbox.list_parked()
    assert parked.reason is not None and "plan:stafettlogg" in parked.reason


async def test_a_tenant_without_the_target_parks_only_its_own_work() -> None:
    """No client for (tenant, target): that tenant's op parks; nothing is called."""
    store, clock = await _world("C1")
    await store.outbox.add_operations([queued(1)])
    dispatcher = Dispatcher(
        store,
        lambda tenant, target: None,
        owner="me",
        settings=DispatchSettings(),
        clock=clock,
    )
    assert (await dispatcher.run_pass()).parked == 1
    [parked] = await store.outbox.list_parked()
    assert parked.reason is not None and "no samspill target configured" in parked.reason


@dataclass
class _Gated(Remote):
    """Calls wait for `gate`; a cancelled call is recorded."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: list[str] = field(default_factory=list)

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.calls.append(("execute", op_ref))
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(op_ref)
            raise
        return Result(remote_id="ours")


async def test_a_lost_lease_stops_the_call_and_records_nothing() -> None:
    """While our call runs a rival takes the operation over (our process stalled past the
    lease): the heartbeat finds the lease gone, the call is cancelled, the rival's result
    stands."""
    store, clock = await _world("C1")
    goal = queued(1, link="goal:G1")
    await store.outbox.add_operations([goal])
    remote = _Gated()
    taken: list[bool] = []

    async def beat(seconds: float) -> None:
        clock.advance(seconds)
        if remote.calls and not taken:
            taken.append(True)
            stalled = clock.now + timedelta(minutes=10)
            assert await store.outbox.release_expired_leases(stalled) == [goal.op_ref]
            [theirs] = await store.outbox.claim_operations("rival", stalled)
            assert await store.outbox.complete_operation(theirs.id, "rival", stalled, remote_id="R")
        await asyncio.sleep(0)

    report = await _dispatcher(store, remote, clock, sleep=beat).run_pass()
    assert remote.cancelled == [goal.op_ref]
    assert (report.done, report.lost) == (0, 1)
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "R"


async def test_a_heartbeat_keeps_a_long_calls_lease() -> None:
    """A call that lasts three leases keeps its operation: nothing expires meanwhile."""
    store, clock = await _world("C1")
    goal = queued(1)
    await store.outbox.add_operations([goal])
    remote = _Gated()
    started = clock.now
    expired: list[str] = []

    async def beat(seconds: float) -> None:
        clock.advance(seconds)
        expired.extend(await store.outbox.release_expired_leases(clock.now))
        if clock.now - started >= timedelta(seconds=180):
            remote.gate.set()
        await asyncio.sleep(0)

    report = await _dispatcher(store, remote, clock, sleep=beat, lease_seconds=60).run_pass()
    assert expired == []
    assert (report.done, report.lost) == (1, 0)
