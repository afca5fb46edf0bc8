"""APScheduler wiring only: fixed-id interval jobs that fire the service's ticks.

The scheduler is never the queue nor the coordination between replicas (the store is):
each job just calls one coroutine of the service. Jobs have fixed ids, `coalesce=True`,
`max_instances=1` and a misfire grace, so a slow tick is never run twice at once and a
late one runs once, not many times.

A job's interval is the `SchedulerSettings` field `{job_id}_interval_s`. Adding a tick is
one id in `JOB_IDS` and one entry in the service's tick table (plus its interval setting).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from adapter.logs import get_logger
from adapter.settings import SchedulerSettings

__all__ = ["JOB_IDS", "Tick", "build_scheduler", "interval_of"]

log = get_logger(__name__)

Tick = Callable[[], Awaitable[object]]

JOB_IDS = ("poll", "plan", "dispatch", "reconcile", "deadlines", "expiry", "retention")
"""The fixed ids of the service's jobs, in the order they are added."""


def interval_of(settings: SchedulerSettings, job_id: str) -> float:
    """Seconds between two runs of `job_id`: the setting `{job_id}_interval_s`."""
    value = getattr(settings, f"{job_id}_interval_s", None)
    if not isinstance(value, int | float):
        raise ValueError(f"scheduler settings have no {job_id}_interval_s for job {job_id!r}")
    return float(value)


def _guarded(name: str, tick: Tick) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await tick()
        except Exception:  # one failing tick must not stop the scheduler or other jobs
            log.exception("scheduled job failed", job=name)

    return run


def build_scheduler(settings: SchedulerSettings, ticks: Mapping[str, Tick]) -> AsyncIOScheduler:
    """A scheduler (not started) with one interval job per tick named in `JOB_IDS`."""
    unknown = set(ticks) - set(JOB_IDS)
    if unknown:
        raise ValueError(f"ticks without a job id in JOB_IDS: {sorted(unknown)}")
    scheduler = AsyncIOScheduler(
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace_s,
        }
    )
    for job_id in JOB_IDS:
        tick = ticks.get(job_id)
        if tick is None:
            continue
        scheduler.add_job(
            _guarded(job_id, tick),
            IntervalTrigger(seconds=interval_of(settings, job_id)),
            id=job_id,
            name=job_id,
            replace_existing=True,
            next_run_time=datetime.now(UTC),  # first tick at start, then every interval
        )
    return scheduler
