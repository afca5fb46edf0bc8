"""The long-running service: scheduler ticks, the HTTP port, and a graceful stop.

`serve` runs until SIGTERM/SIGINT (or `stop` is set): the scheduler fires the ticks, uvicorn
serves the push door, health and metrics. On stop, no new tick starts and the dispatcher
claims no new operation; every tick in progress is awaited (its running operations
complete, or keep their lease to be taken over after expiry); then the HTTP port closes,
and the caller closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn

from adapter.http_port import server_config
from adapter.logs import get_logger
from adapter.resync import reconcile, record_drift
from adapter.runner.deadlines import deadline_report, oslo_today, overdue_counts
from adapter.runner.expiry import store_expiries
from adapter.runner.once import poll_all
from adapter.runner.plan_step import plan_pending
from adapter.runner.retention import purge_expired_cases
from adapter.runner.runtime import Runtime
from adapter.scheduler import Tick, build_scheduler
from adapter.store.store import Store
from adapter.web import create_web_app, request_timed_out

__all__ = ["refresh_gauges", "serve", "singleton_tick"]

log = get_logger(__name__)


async def refresh_gauges(rt: Runtime) -> None:
    """Set the state gauges from the store (the shared truth of every replica)."""
    for tenant, counts in (await rt.store.events.event_counts_by_tenant()).items():
        for state, n in counts.items():
            rt.metrics.events.labels(tenant, state.value).set(n)
    for (tenant, target), op_counts in (await rt.store.outbox.operation_counts_by_queue()).items():
        for op_state, n in op_counts.items():
            rt.metrics.operations.labels(tenant, target.value, op_state.value).set(n)
    now = rt.clock()
    age = await rt.store.outbox.oldest_pending_age(now)
    rt.metrics.queue_age.set(0 if age is None else age.total_seconds())
    for queue in await rt.store.status.queues():
        oldest = queue.oldest_open_at
        waited = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
        rt.metrics.queue_age_by_queue.labels(queue.tenant, queue.target.value).set(waited)
    for poll in await rt.store.status.list_polls():
        if poll.last_success_at is not None:
            rt.metrics.last_poll.labels(poll.tenant).set(poll.last_success_at.timestamp())


def singleton_tick(store: Store, name: str, tick: Tick) -> Tick:
    """`tick`, run by one replica at a time (`store.singleton(name)`: a PostgreSQL advisory
    lock); a replica that finds the lock taken skips this turn."""

    async def run() -> None:
        async with store.singleton(name) as mine:
            if not mine:
                log.info("periodic job is running on another replica; skipped", job=name)
                return
            await tick()

    return run


class _Ticks:
    """The service's ticks and how each runs (`as_mapping` is the table the scheduler fires).

    - a *turn* (poll, plan, dispatch) never overlaps another turn of this process (one lock);
    - a *singleton* (reconcile, deadlines, expiry, retention) runs on one replica at a time
      (advisory lock).

    Adding a tick: its method here, one line in `as_mapping`, its id in `JOB_IDS` and its
    `{id}_interval_s` setting. Every tick is tracked, so `stop` can wait for those in
    progress; none starts after it.
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._dispatcher = rt.dispatcher()
        self.busy = asyncio.Lock()
        self._stopping = False
        self._running: set[asyncio.Task[Any]] = set()

    def as_mapping(self) -> dict[str, Tick]:
        """Job id → the tick the scheduler fires."""
        return {
            "poll": self._turn(self.poll),
            "plan": self._turn(self.plan),
            "dispatch": self._turn(self.dispatch),
            "reconcile": self._singleton("reconcile", self.reconcile),
            "deadlines": self._singleton("deadlines", self.deadlines),
            "expiry": self._singleton("expiry", self.expiry),
            "retention": self._singleton("retention", self.retention),
        }

    async def poll(self) -> None:
        """Poll every tenant's feed once."""
        await poll_all(self._rt)

    async def plan(self) -> None:
        """Plan the stored events that wait."""
        await plan_pending(self._rt.store, self._rt.rules, self._rt.lookup)

    async def dispatch(self) -> None:
        """Take over expired leases, then run the due operations."""
        await self._rt.store.outbox.release_expired_leases(self._rt.clock())
        await self._dispatcher.run_pass()

    async def reconcile(self) -> None:
        """Refresh the gauges and record the drift between the remotes and the record."""
        await refresh_gauges(self._rt)
        report = await reconcile(self._rt)
        record_drift(self._rt.metrics, report)
        if report.drift:
            log.warning("reconcile found drift", cases=report.cases, items=len(report.drift))

    async def deadlines(self) -> None:
        """Set the overdue-cases gauge per tenant on today's Oslo date."""
        rows = await deadline_report(self._rt.store, oslo_today(self._rt.clock))
        for tenant, n in overdue_counts(rows, self._rt.settings.tenants).items():
            self._rt.metrics.deadlines_overdue.labels(tenant).set(n)

    async def expiry(self) -> None:
        """Store a `consent.expired` event for every consent past its `valid_to` (Oslo)."""
        report = await store_expiries(self._rt.store, self._rt.lookup, oslo_today(self._rt.clock))
        if report.stored:
            log.info("consents expired", events=report.stored)

    async def retention(self) -> None:
        """Purge the personal data of closed cases whose retention time has passed."""
        report = await purge_expired_cases(self._rt.store, self._rt.settings, self._rt.clock())
        if report.purged or report.waiting:
            log.info("retention", purged=report.purged, waiting=report.waiting)

    async def stop(self) -> None:
        """Start no tick from now on, claim no new operation, and wait for the ticks in
        progress (their running operations finish, or keep their lease to be taken over)."""
        self._stopping = True
        self._dispatcher.stop()
        while self._running:
            await asyncio.wait(set(self._running))  # never cancels them (unlike gather)

    def _turn(self, tick: Tick) -> Tick:
        async def run() -> None:
            async with self.busy:
                if not self._stopping:  # a stop may have come while this turn waited
                    await tick()

        return self._tracked(run)

    def _singleton(self, name: str, tick: Tick) -> Tick:
        return self._tracked(singleton_tick(self._rt.store, name, tick))

    def _tracked(self, tick: Tick) -> Tick:
        async def run() -> None:
            task = asyncio.current_task()
            if self._stopping or task is None:
                return
            self._running.add(task)
            try:
                await tick()
            finally:
                self._running.discard(task)

        return run


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
        clock=rt.clock,
    )
    http = rt.settings.http
    server = _QuietServer(
        server_config(
            web,
            host=http.host,
            port=http.port,
            timeout_s=http.body_timeout_s,
            on_timeout=lambda part: request_timed_out(rt.metrics, part),
        )
    )
    scheduler.start()
    web_task = asyncio.create_task(server.serve())
    log.info("service started", host=rt.settings.http.host, port=rt.settings.http.port)
    stop_task = asyncio.create_task(stop.wait())
    await asyncio.wait({web_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("service stopping")
    scheduler.pause()
    await ticks.stop()  # the ticks in progress finish; none starts after
    scheduler.shutdown(wait=False)
    server.should_exit = True
    await asyncio.gather(web_task, return_exceptions=True)
    stop_task.cancel()
    log.info("service stopped")
