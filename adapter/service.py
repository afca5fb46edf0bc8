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
from adapter.jobs.catalog import ServiceJobs
from adapter.jobs.reconcile import refresh_gauges
from adapter.logs import get_logger
from adapter.scheduler import Tick, build_scheduler
from adapter.store.store import Store
from adapter.web import create_web_app, request_timed_out
from adapter.wiring.runtime import Runtime

__all__ = ["refresh_gauges", "serve", "singleton_tick"]

log = get_logger(__name__)


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
    """The service's ticks: one per job of `ServiceJobs` (`as_mapping` is the table the
    scheduler fires).

    - a *turn* (poll, plan, dispatch) never overlaps another turn of this process (one lock);
    - a *singleton* (reconcile, deadlines, expiry, retention) runs on one replica at a time
      (advisory lock).

    Adding a tick: its job in `adapter.jobs` and in `ServiceJobs`, its id in `JOB_IDS` and
    its `{id}_interval_s` setting. Every tick is tracked, so `stop` can wait for those in
    progress; none starts after it.
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._jobs = ServiceJobs(rt)
        self.busy = asyncio.Lock()
        self._stopping = False
        self._running: set[asyncio.Task[Any]] = set()

    def as_mapping(self) -> dict[str, Tick]:
        """Job id → the tick the scheduler fires."""
        return {
            job.name: self._singleton(job.name, job.run) if job.singleton else self._turn(job.run)
            for job in self._jobs.all
        }

    async def stop(self) -> None:
        """Start no tick from now on, claim no new operation, and wait for the ticks in
        progress (their running operations finish, or keep their lease to be taken over)."""
        self._stopping = True
        self._jobs.dispatch.stop()
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
