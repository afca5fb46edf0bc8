"""Resync beside a running service: a second runtime (its own store handle on the same
database, its own lease owner) dispatches while resync converges — on SQLite and
PostgreSQL. Claims and leases keep every remote item made once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapter.resync import Action, case_keys, resync
from adapter.resync.converge import analyse_cases, apply_diff
from adapter.runner.once import run_once
from adapter.runner.runtime import Runtime
from adapter.store import Store, open_store
from tests.integration.conftest import FakeClock, PgSchemas
from tests.support.remote_state import duplicates, normalize
from tests.support.resync_world import ACTOR, World, open_world


@pytest.fixture
async def world(store: Store, sqlite_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """A runtime over the store and an in-process mock, the Vardø case drained."""
    async with open_world(store, sqlite_url, clock) as opened:
        yield opened


@pytest.fixture
async def live(
    request: pytest.FixtureRequest, world: World, store: Store, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[Runtime]:
    """The "service": another runtime on the same database and mock, another lease owner."""
    if store.backend == "sqlite":
        twin = await open_store(sqlite_url, clock=clock)
    else:
        schemas: PgSchemas = request.getfixturevalue("pg_schemas")
        schema: str = request.getfixturevalue("pg_store_schema")
        twin = await open_store(
            schemas.url, clock=clock, connect_args=PgSchemas.connect_args(schema)
        )
    rt = await Runtime.open(
        world.settings, store=twin, transport=world.transport, clock=clock, owner="service"
    )
    try:
        yield rt
    finally:
        await rt.close()


async def _serve(rt: Runtime, stop: asyncio.Event) -> int:
    """Dispatch passes until `stop`, yielding between them; how many operations it ran."""
    ran = 0
    while not stop.is_set():
        ran += (await rt.dispatcher().run_pass()).done
        await asyncio.sleep(0)  # a yield to the resync, not a wait
    return ran


async def test_resync_beside_a_live_dispatcher_makes_every_item_once(
    world: World, live: Runtime
) -> None:
    """After a wipe, resync requeues the history while the service dispatches too: both
    run operations, and the rebuilt state has no duplicate and equals the first one."""
    before = await world.state()
    (await world.admin.post("/_mock/reset")).raise_for_status()
    stop = asyncio.Event()
    service = asyncio.create_task(_serve(live, stop))
    try:
        report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    finally:
        stop.set()
        served = await service
    leftover = await run_once(world.rt, poll=False, max_wait_s=0)
    assert (leftover.operations_pending, leftover.parked_cases) == (0, 0)
    assert report.created > 0 and served > 0
    after = await world.state()
    assert duplicates(after) == []
    assert normalize(after) == normalize(before)


async def test_a_resync_applied_after_another_converged_creates_nothing_twice(
    world: World, clock: FakeClock
) -> None:
    """Two resyncs race: the second diffed before the first converged. What the first
    replayed since is not requeued again, so nothing is doubled and nothing parks."""
    before = await world.state()
    (await world.admin.post("/_mock/reset")).raise_for_status()
    keys = await case_keys(world.rt.store)
    (stale,) = await analyse_cases(world.rt, keys)
    assert stale.count(Action.CREATE) > 0
    clock.advance(60)  # the other resync runs later than the first drain
    await resync(world.rt, keys, actor=ACTOR, max_wait_s=0)
    assert duplicates(await world.state()) == []

    assert await apply_diff(world.rt.store, stale, ACTOR)
    drained = await run_once(world.rt, poll=False, max_wait_s=0)
    assert (drained.operations_pending, drained.parked_cases) == (0, 0)
    after = await world.state()
    assert duplicates(after) == []
    assert normalize(after) == normalize(before)


async def test_a_requeued_create_whose_item_exists_again_is_adopted_not_made_twice(
    world: World,
) -> None:
    """Resync saw an item missing; someone made it before the dispatcher ran the requeued
    create: the dispatcher looks it up by reference first and adopts it."""
    ops = await world.rt.store.operations_for_case("vardo", "BS-2026-0007")
    (goal_op,) = [o for o in ops if o.op_ref.endswith(":goal:G2")]
    assert await world.rt.store.requeue_operations([goal_op.id], world.rt.clock()) == 1
    drained = await run_once(world.rt, poll=False, max_wait_s=0)
    assert (drained.operations_done, drained.operations_pending) == (1, 0)
    goals = [g for g in (await world.plan("individuell-plan"))["goals"]]
    assert [g["id"] for g in goals if g["externalReference"] == goal_op.op_ref] == [
        goal_op.remote_id
    ]
