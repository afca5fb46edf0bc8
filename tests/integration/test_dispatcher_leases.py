"""The dispatcher's leases: a heartbeat keeps a long call's lease, a lost lease stops the
call, and a stop claims nothing new. Time is a fake clock; the heartbeat's sleep moves it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapter.dispatch.worker import Dispatcher
from adapter.planning.operations import OpKind, Target
from adapter.planning.payloads import Payload
from adapter.settings import DispatchSettings
from adapter.store import Store
from adapter.store.states import OperationState
from adapter.targets.result import Result
from tests.integration.conftest import FakeClock
from tests.support.outbox import goal_operation

LEASE_S = 60
BEAT_S = 15.0
_GIVE_UP = 200


@dataclass
class GatedTarget:
    """Each call waits until `gate` opens; records calls and whether one was cancelled."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    on_release: Callable[[], Awaitable[None]] | None = None

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.calls.append(op_ref)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(op_ref)
            raise
        if self.on_release is not None:
            await self.on_release()
        return Result(remote_id="ours", status=201)

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        return None


@dataclass
class Beats:
    """The heartbeat's sleep: moves the fake clock, then runs `on_beat(n)`; n counts the
    beats since the target's first call (before it, beats come without any wait)."""

    clock: FakeClock
    on_beat: Callable[[int], Awaitable[None]]
    target: GatedTarget
    count: int = 0

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self.target.calls:
            self.count += 1
        await self.on_beat(self.count)
        if self.count >= _GIVE_UP:
            self.target.gate.set()  # a broken heartbeat fails the test instead of hanging it
        await asyncio.sleep(0)


async def _setup(store: Store, *cases: str) -> None:
    for case in cases:
        await store.links.put_link("modum", case, Target.SAMSPILL, "plan:stafettlogg", f"P-{case}")
        await store.outbox.add_operations([goal_operation(case)])


def _dispatcher(
    store: Store, target: GatedTarget, clock: FakeClock, beats: Beats, concurrency: int = 4
) -> Dispatcher:
    settings = DispatchSettings(
        concurrency=concurrency, lease_seconds=LEASE_S, heartbeat_seconds=BEAT_S
    )
    return Dispatcher(
        store, lambda tenant, t: target, owner="me", settings=settings, clock=clock, sleep=beats
    )


async def test_a_call_longer_than_the_lease_keeps_it_by_heartbeat(
    store: Store, clock: FakeClock
) -> None:
    """Two minutes into a call (twice the lease) no other replica may take the operation."""
    await _setup(store, "C1")
    taken_over: list[list[str]] = []

    async def rival_looks() -> None:
        taken_over.append(await store.outbox.release_expired_leases(clock.now))

    target = GatedTarget(on_release=rival_looks)
    started: list[datetime] = []

    async def on_beat(n: int) -> None:
        if target.calls and not started:
            started.append(clock.now)
        if started and clock.now - started[0] >= timedelta(seconds=2 * LEASE_S):
            target.gate.set()

    report = await _dispatcher(store, target, clock, Beats(clock, on_beat, target)).run_pass()
    assert taken_over == [[]]
    assert (report.done, report.lost) == (1, 0)
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "ours"


async def test_a_lost_lease_stops_the_call_and_records_nothing(
    store: Store, clock: FakeClock
) -> None:
    """Another replica took the operation over: our call is cancelled, its result is theirs."""
    await _setup(store, "C1")
    target = GatedTarget()

    taken: list[int] = []

    async def on_beat(n: int) -> None:
        if target.calls and not taken:
            # our call runs; the rival saw our lease run out (a stalled process), took over
            taken.append(n)
            stalled = clock.now + timedelta(seconds=2 * LEASE_S)  # past any extended lease
            released = await store.outbox.release_expired_leases(stalled)
            [theirs] = await store.outbox.claim_operations("rival", stalled)
            assert released == [theirs.op_ref]
            assert await store.outbox.complete_operation(theirs.id, "rival", stalled, remote_id="R")

    report = await _dispatcher(store, target, clock, Beats(clock, on_beat, target)).run_pass()
    assert target.cancelled == [goal_operation("C1").op_ref]
    assert (report.done, report.lost) == (0, 1)
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "R"


async def test_after_stop_nothing_new_is_claimed_and_the_running_call_finishes(
    store: Store, clock: FakeClock
) -> None:
    """A stop during a pass lets the running operation complete and claims no other."""
    await _setup(store, "C1", "C2")
    target = GatedTarget()
    dispatcher: Dispatcher | None = None

    async def on_beat(n: int) -> None:
        if target.calls and dispatcher is not None:
            dispatcher.stop()
            target.gate.set()

    dispatcher = _dispatcher(store, target, clock, Beats(clock, on_beat, target), concurrency=1)
    report = await dispatcher.run_pass()
    assert (report.done, target.calls) == (1, [goal_operation("C1").op_ref])
    second = await store.outbox.get_operation_by_ref(goal_operation("C2").op_ref)
    # claimed ahead while C1 ran, given back untouched: waiting, unleased, no attempt counted
    assert second is not None and second.state is OperationState.PENDING
    assert (second.lease_owner, second.leased_until, second.attempts) == (None, None, 0)
    assert (await dispatcher.run_pass()).ran == 0  # stopped for good


async def test_an_operation_claimed_ahead_keeps_its_lease_while_it_waits(
    store: Store, clock: FakeClock
) -> None:
    """Four slots, five cases: C5 is claimed ahead while the four calls last twice the
    lease; the heartbeat keeps C5's lease too, so no other replica takes it over meanwhile."""
    cases = ("C1", "C2", "C3", "C4", "C5")
    await _setup(store, *cases)
    target = GatedTarget()
    started: list[datetime] = []
    ahead: list[OperationState] = []
    taken_over: list[list[str]] = []

    async def on_beat(n: int) -> None:
        if len(target.calls) == 4 and not started:
            started.append(clock.now)
            fifth = await store.outbox.get_operation_by_ref(goal_operation("C5").op_ref)
            assert fifth is not None and fifth.lease_owner == "me"
            ahead.append(fifth.state)
        if started and clock.now - started[0] >= timedelta(seconds=2 * LEASE_S):
            taken_over.append(await store.outbox.release_expired_leases(clock.now))
            target.gate.set()

    report = await _dispatcher(store, target, clock, Beats(clock, on_beat, target)).run_pass()
    assert ahead == [OperationState.IN_FLIGHT]  # claimed, not yet started
    assert taken_over[0] == []
    assert (report.done, report.lost) == (5, 0)
    assert sorted(target.calls) == sorted(goal_operation(c).op_ref for c in cases)


async def test_a_stop_gives_back_what_was_claimed_ahead_untouched(
    store: Store, clock: FakeClock
) -> None:
    """Stopped while four calls run and C5 waits claimed ahead: C5 is waiting again at
    once, unleased and with no attempt counted (no lease to expire first)."""
    await _setup(store, "C1", "C2", "C3", "C4", "C5")
    target = GatedTarget()
    dispatcher: Dispatcher | None = None

    async def on_beat(n: int) -> None:
        if len(target.calls) == 4 and dispatcher is not None:
            dispatcher.stop()
            target.gate.set()

    dispatcher = _dispatcher(store, target, clock, Beats(clock, on_beat, target))
    report = await dispatcher.run_pass()
    assert report.done == 4
    fifth = await store.outbox.get_operation_by_ref(goal_operation("C5").op_ref)
    assert fifth is not None and fifth.state is OperationState.PENDING
    assert (fifth.lease_owner, fifth.leased_until, fifth.attempts) == (None, None, 0)
