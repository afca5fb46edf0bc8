"""The service's ticks: periodic singletons run on one replica at a time, a stop waits for
the ticks in progress and starts none, the operations gauge is labelled by target."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adapter.planning.operations import OpKind, Target
from adapter.planning.payloads import Payload
from adapter.scheduler import Tick
from adapter.service import _Ticks, refresh_gauges, singleton_tick
from adapter.store import Store, open_store
from adapter.store.states import OperationState
from adapter.targets.result import Result
from adapter.wiring.runtime import Runtime
from tests.integration.conftest import FakeClock, PgSchemas
from tests.support.engine import demo_settings
from tests.support.outbox import goal_operation


@dataclass
class GatedTarget:
    """Calls wait for `gate`; `started` is set by the first call."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[str] = field(default_factory=list)

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.calls.append(op_ref)
        self.started.set()
        await self.gate.wait()
        return Result(remote_id="g", status=201)

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        return None


async def _pg_pair(pg_schemas: PgSchemas, schema: str) -> tuple[Store, Store]:
    args = PgSchemas.connect_args(schema)
    return (
        await open_store(pg_schemas.url, connect_args=args),
        await open_store(pg_schemas.url, connect_args=args),
    )


async def test_two_replicas_ticking_a_singleton_at_once_run_it_once(
    pg_store_schema: str, pg_schemas: PgSchemas
) -> None:
    """While replica A runs `reconcile`, replica B's tick of it skips; later B may run it."""
    a, b = await _pg_pair(pg_schemas, pg_store_schema)
    runs: list[str] = []
    inside, release = asyncio.Event(), asyncio.Event()

    def job(name: str) -> Tick:
        async def run() -> None:
            runs.append(name)
            inside.set()
            await release.wait()

        return run

    try:
        first = asyncio.create_task(singleton_tick(a, "reconcile", job("a"))())
        await inside.wait()
        await singleton_tick(b, "reconcile", job("b"))()  # returns at once: A holds it
        release.set()
        await first
        assert runs == ["a"]
        await singleton_tick(b, "reconcile", job("b"))()
        assert runs == ["a", "b"]
    finally:
        await a.close()
        await b.close()


async def test_the_service_deadlines_tick_skips_while_another_replica_holds_it(
    pg_store_schema: str, pg_schemas: PgSchemas, tmp_path: Path
) -> None:
    """The scheduler's `deadlines` job is a singleton: no gauge while B holds the lock."""
    a, b = await _pg_pair(pg_schemas, pg_store_schema)
    rt = await Runtime.open(demo_settings(tmp_path / "unused.db"), store=a)
    gauge = "stafett_deadlines_overdue_cases"
    try:
        tick = _Ticks(rt).as_mapping()["deadlines"]
        async with b.singleton("deadlines") as held:
            assert held
            await tick()
        assert rt.metrics.registry.get_sample_value(gauge, {"tenant": "modum"}) is None
        await tick()
        assert rt.metrics.registry.get_sample_value(gauge, {"tenant": "modum"}) == 0
    finally:
        await rt.close()
        await b.close()


async def test_a_stop_waits_for_the_running_dispatch_and_starts_nothing_new(
    tmp_path: Path,
) -> None:
    """Stop during a dispatch tick: the running operation finishes, no other is claimed, the
    stop returns only after the tick, and later ticks do nothing."""
    settings = demo_settings(tmp_path / "s.db", STAFETT_DISPATCH__CONCURRENCY="1")
    rt = await Runtime.open(settings)
    target = GatedTarget()
    rt.clients[("modum", Target.SAMSPILL)] = target
    try:
        for case in ("C1", "C2"):
            await rt.store.links.put_link("modum", case, Target.SAMSPILL, "plan:stafettlogg", "P")
        await rt.store.outbox.add_operations([goal_operation("C1"), goal_operation("C2")])
        ticks = _Ticks(rt)
        jobs = ticks.as_mapping()
        dispatch = asyncio.create_task(jobs["dispatch"]())
        await target.started.wait()
        stopping = asyncio.create_task(ticks.stop())
        await asyncio.sleep(0)
        assert not stopping.done(), "stop returned while a tick was still running"
        target.gate.set()
        await stopping
        assert dispatch.done()
        await jobs["dispatch"]()  # after the stop: nothing runs
        states = {
            o.op_ref: o.state for o in await rt.store.outbox.operations_for_case("modum", "C1")
        }
        states |= {
            o.op_ref: o.state for o in await rt.store.outbox.operations_for_case("modum", "C2")
        }
        assert states == {
            goal_operation("C1").op_ref: OperationState.DONE,
            goal_operation("C2").op_ref: OperationState.PENDING,
        }
        assert target.calls == [goal_operation("C1").op_ref]
    finally:
        await rt.close()


async def test_the_operations_gauge_is_labelled_by_target(tmp_path: Path) -> None:
    """`stafett_operations` says which target's queue holds the operations, never "all"."""
    rt = await Runtime.open(demo_settings(tmp_path / "g.db"))
    try:
        await rt.store.outbox.add_operations([goal_operation("C1")])
        await refresh_gauges(rt)
        sample = rt.metrics.registry.get_sample_value
        labels = {"tenant": "modum", "state": "pending"}
        assert sample("stafett_operations", {**labels, "target": "samspill"}) == 1
        assert sample("stafett_operations", {**labels, "target": "all"}) is None
    finally:
        await rt.close()


async def test_the_oldest_pending_gauge_is_per_tenant_and_target(tmp_path: Path) -> None:
    """`stafett_queue_oldest_pending_by_target_seconds`: each tenant's queue to each remote
    has its own age, so a stuck archive queue of one tenant is not hidden by another."""
    clock = FakeClock()
    settings = demo_settings(tmp_path / "g.db")
    store = await open_store(settings.database_url, clock=clock)
    rt = await Runtime.open(settings, clock=clock, store=store)
    try:
        await rt.store.outbox.add_operations([goal_operation("C1")])
        clock.advance(90)
        await rt.store.outbox.add_operations([goal_operation("C2", tenant="vardo")])
        clock.advance(30)
        await refresh_gauges(rt)
        sample = rt.metrics.registry.get_sample_value
        name = "stafett_queue_oldest_pending_by_target_seconds"
        assert sample(name, {"tenant": "modum", "target": "samspill"}) == 120
        assert sample(name, {"tenant": "vardo", "target": "samspill"}) == 30
    finally:
        await rt.close()
