"""Resync beside a running service: a second runtime (its own store handle on the same
database, its own lease owner) dispatches while resync converges — on SQLite and
PostgreSQL. Claims and leases keep every remote item made once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from adapter.jobs.once import run_once
from adapter.resync import Action, case_keys, resync
from adapter.resync.converge import analyse_cases, apply_diff
from adapter.store import Store, open_store
from adapter.wiring.runtime import Runtime
from tests.integration.conftest import FakeClock, PgSchemas
from tests.support.remote_state import duplicates, is_write, normalize
from tests.support.resync_world import ACTOR, World, open_world
from tests.support.stored_events import demo_settings


@pytest.fixture
async def world(store: Store, sqlite_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """A runtime over the store and an in-process mock, the Vardø case drained."""
    async with open_world(store, sqlite_url, clock) as opened:
        yield opened


class _Writes(httpx.AsyncBaseTransport):
    """Counts the writes a runtime sends; with `after`, each waits until that event is set.

    With `then_yield_to` set, every write after the first waits (2 s at most) until that
    event is set: the other dispatcher gets its turn even on a loaded machine, where this
    one could otherwise drain everything before the other ever claimed.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, after: asyncio.Event | None = None):
        self._inner = inner
        self._after = after
        self.then_yield_to: asyncio.Event | None = None
        self.sent = asyncio.Event()
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_write(request.method, request.url.path):
            if self._after is not None:
                await self._after.wait()
            if self.count and self.then_yield_to is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.then_yield_to.wait(), timeout=2)
            self.count += 1
            self.sent.set()
        return await self._inner.handle_async_request(request)


async def _runtime(
    world: World, store: Store, transport: httpx.AsyncBaseTransport, owner: str, **env: str
) -> Runtime:
    settings = demo_settings(world.settings.database_url, **env)
    return await Runtime.open(
        settings, store=store, transport=transport, clock=world.rt.clock, owner=owner
    )


@pytest.fixture
async def twin(
    request: pytest.FixtureRequest, store: Store, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[Store]:
    """A second store handle on the same database: the running service's."""
    if store.backend == "sqlite":
        opened = await open_store(sqlite_url, clock=clock)
    else:
        schemas: PgSchemas = request.getfixturevalue("pg_schemas")
        schema: str = request.getfixturevalue("pg_store_schema")
        opened = await open_store(
            schemas.url, clock=clock, connect_args=PgSchemas.connect_args(schema)
        )
    async with opened:
        yield opened


async def _serve(rt: Runtime, stop: asyncio.Event) -> int:
    """Dispatch passes until `stop`, yielding between them; how many operations it ran."""
    ran = 0
    while not stop.is_set():
        ran += (await rt.dispatcher().run_pass()).done
        await asyncio.sleep(0)  # a yield to the resync, not a wait
    return ran


async def test_resync_beside_a_live_dispatcher_makes_every_item_once(
    world: World, twin: Store
) -> None:
    """After a wipe, resync requeues the history while the service dispatches too (its
    first write after the resync's first): both send writes, and the rebuilt state has no
    duplicate and equals the first one."""
    before = await world.state()
    (await world.admin.post("/_mock/reset")).raise_for_status()
    ours = _Writes(world.transport)
    theirs = _Writes(world.transport, after=ours.sent)
    ours.then_yield_to = theirs.sent
    # One operation at a time each: a case's two queues, so neither can take both heads.
    rt = await _runtime(world, world.rt.store, ours, "resync", STAFETT_DISPATCH__CONCURRENCY="1")
    service = await _runtime(world, twin, theirs, "service", STAFETT_DISPATCH__CONCURRENCY="1")
    stop = asyncio.Event()
    serving = asyncio.create_task(_serve(service, stop))
    try:
        report = await resync(rt, await case_keys(rt.store), actor=ACTOR, max_wait_s=0)
    finally:
        stop.set()
        served = await serving
        await rt.http.aclose()
        await service.http.aclose()
    leftover = await run_once(world.rt, poll=False, max_wait_s=0)
    assert (leftover.operations_pending, leftover.parked_cases) == (0, 0)
    assert report.created > 0 and served > 0 and ours.count > 0 and theirs.count > 0
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
    ops = await world.rt.store.outbox.operations_for_case("vardo", "BS-2026-0007")
    (goal_op,) = [o for o in ops if o.op_ref.endswith(":goal:G2")]
    assert await world.rt.store.outbox.requeue_operations([goal_op.id], world.rt.clock()) == 1
    drained = await run_once(world.rt, poll=False, max_wait_s=0)
    assert (drained.operations_done, drained.operations_pending) == (1, 0)
    goals = [g for g in (await world.plan("individuell-plan"))["goals"]]
    assert [g["id"] for g in goals if g["externalReference"] == goal_op.op_ref] == [
        goal_op.remote_id
    ]
