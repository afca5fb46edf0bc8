"""The scheduler only fires ticks: fixed ids, coalesced, never overlapping, failures contained."""

from __future__ import annotations

import pytest

from adapter.scheduler import JOB_IDS, build_scheduler, interval_of
from adapter.settings import SchedulerSettings


async def _noop() -> None:
    return None


async def test_jobs_have_fixed_ids_and_safe_defaults() -> None:
    """Every tick becomes one job with its fixed id, coalesce on and at most one instance."""
    scheduler = build_scheduler(SchedulerSettings(), dict.fromkeys(JOB_IDS, _noop))
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == set(JOB_IDS)
        for job in jobs.values():
            assert job.coalesce is True
            assert job.max_instances == 1
            assert job.misfire_grace_time == SchedulerSettings().misfire_grace_s
        assert jobs["dispatch"].trigger.interval.total_seconds() == 2
    finally:
        scheduler.shutdown(wait=False)


async def test_a_failing_tick_is_contained() -> None:
    """A tick that raises is logged by its job wrapper; the wrapper itself returns."""
    calls: list[str] = []

    async def boom() -> None:
        calls.append("boom")
        raise RuntimeError("tick failed")

    scheduler = build_scheduler(SchedulerSettings(), {"plan": boom})
    scheduler.start(paused=True)
    try:
        (job,) = scheduler.get_jobs()
        await job.func()
        assert calls == ["boom"]
    finally:
        scheduler.shutdown(wait=False)


def test_each_job_runs_at_its_own_interval_setting() -> None:
    """A job's interval is the setting `{id}_interval_s`: a new tick needs no wiring here."""
    settings = SchedulerSettings(
        reconcile_interval_s=120,
        deadlines_interval_s=7200,
        expiry_interval_s=600,
        retention_interval_s=43200,
    )
    assert [interval_of(settings, job) for job in JOB_IDS] == [
        settings.poll_interval_s,
        settings.plan_interval_s,
        settings.dispatch_interval_s,
        120,
        7200,
        600,
        43200,
    ]


def test_a_tick_without_a_job_id_is_refused() -> None:
    """A tick the service offers but `JOB_IDS` does not name would never run: refused."""
    with pytest.raises(ValueError, match="nightly"):
        build_scheduler(SchedulerSettings(), {"nightly": _noop})
