"""The long-running service: scheduler ticks, the HTTP port, and a graceful stop.

`serve` runs until SIGTERM/SIGINT (or `stop` is set): the scheduler fires the ticks, uvicorn
serves the push door, health and metrics. On stop, no new tick starts, the tick in progress
finishes (its operations complete or keep their lease, to be taken over after expiry),
then the HTTP port and the store close.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator

import uvicorn

from adapter.logs import get_logger
from adapter.resync import reconcile, record_drift
from adapter.runner.deadlines import deadline_report, oslo_today, overdue_counts
from adapter.runner.once import poll_all
from adapter.runner.plan_step import plan_pending
from adapter.runner.runtime import Runtime
from adapter.scheduler import build_scheduler
from adapter.web import create_web_app

__all__ = ["refresh_gauges", "serve"]

log = get_logger(__name__)


async def refresh_gauges(rt: Runtime) -> None:
    """Set the state gauges from the store (the shared truth of every replica)."""
    for tenant, counts in (await rt.store.event_counts_by_tenant()).items():
        for state, n in counts.items():
            rt.metrics.events.labels(tenant, state.value).set(n)
    for tenant, op_counts in (await rt.store.operation_counts_by_tenant()).items():
        for op_state, n in op_counts.items():
            rt.metrics.operations.labels(tenant, "all", op_state.value).set(n)
    age = await rt.store.oldest_pending_age(rt.clock())
    rt.metrics.queue_age.set(0 if age is None else age.total_seconds())


class _Ticks:
    """The service's ticks; one lock makes plan and dispatch turns never overlap in-process."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._dispatcher = rt.dispatcher()
        self.busy = asyncio.Lock()

    async def poll(self) -> None:
        async with self.busy:
            await poll_all(self._rt)

    async def plan(self) -> None:
        async with self.busy:
            await plan_pending(self._rt.store, self._rt.rules, self._rt.lookup)

    async def dispatch(self) -> None:
        async with self.busy:
            await self._rt.store.release_expired_leases(self._rt.clock())
            await self._dispatcher.run_pass()

    async def reconcile(self) -> None:
        await refresh_gauges(self._rt)
        report = await reconcile(self._rt)  # reads only: no lock needed
        record_drift(self._rt.metrics, report)
        if report.drift:
            log.warning("reconcile found drift", cases=report.cases, items=len(report.drift))

    async def deadlines(self) -> None:
        rows = await deadline_report(self._rt.store, oslo_today(self._rt.clock))
        for tenant, n in overdue_counts(rows, self._rt.settings.tenants).items():
            self._rt.metrics.deadlines_overdue.labels(tenant).set(n)

    def as_mapping(self) -> dict[str, Callable[[], Awaitable[object]]]:
        return {
            "poll": self.poll,
            "plan": self.plan,
            "dispatch": self.dispatch,
            "reconcile": self.reconcile,
            "deadlines": self.deadlines,
        }


class _QuietServer(uvicorn.Server):
    """uvicorn that leaves signals to `serve` (which stops the scheduler first)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(rt: Runtime, *, stop: asyncio.Event | None = None) -> None:
    """Run the service until a signal (or `stop`); then stop gracefully."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # not possible outside the main thread (tests drive `stop` themselves)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    ticks = _Ticks(rt)
    scheduler = build_scheduler(rt.settings.scheduler, ticks.as_mapping())
    web = create_web_app(
        settings=rt.settings,
        store=rt.store,
        rules=rt.lookup,
        metrics=rt.metrics,
        refresh_metrics=lambda: refresh_gauges(rt),
    )
    server = _QuietServer(
        uvicorn.Config(
            web,
            host=rt.settings.http.host,
            port=rt.settings.http.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    scheduler.start()
    web_task = asyncio.create_task(server.serve())
    log.info("service started", host=rt.settings.http.host, port=rt.settings.http.port)
    stop_task = asyncio.create_task(stop.wait())
    await asyncio.wait({web_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("service stopping")
    scheduler.pause()
    async with ticks.busy:  # the tick in progress finishes; none starts after
        scheduler.shutdown(wait=False)
    server.should_exit = True
    await asyncio.gather(web_task, return_exceptions=True)
    stop_task.cancel()
    log.info("service stopped")
