"""The service's jobs, one per scheduler job id, in `JOB_IDS` order."""

from __future__ import annotations

from adapter.jobs.deadlines import Deadlines
from adapter.jobs.dispatch import Dispatch
from adapter.jobs.expiry import Expiry
from adapter.jobs.feed_poll import FeedPoll
from adapter.jobs.job import Job
from adapter.jobs.plan_step import PlanStep
from adapter.jobs.reconcile import Reconcile
from adapter.jobs.retention import Retention
from adapter.wiring.runtime import Runtime

__all__ = ["ServiceJobs"]


class ServiceJobs:
    """Every job of the service over one runtime (`dispatch` kept by name, to be stopped)."""

    def __init__(self, rt: Runtime) -> None:
        self.dispatch = Dispatch(rt)
        self.all: tuple[Job[object], ...] = (
            FeedPoll(rt),
            PlanStep(rt),
            self.dispatch,
            Reconcile(rt),
            Deadlines(rt),
            Expiry(rt),
            Retention(rt),
        )
