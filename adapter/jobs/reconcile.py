"""The reconcile job: the state gauges refreshed, and the drift between the remotes and the
record measured and logged (see `adapter.resync.reconcile`)."""

from __future__ import annotations

from adapter.logs import get_logger
from adapter.resync import ReconcileReport, reconcile, record_drift
from adapter.wiring.runtime import Runtime

__all__ = ["Reconcile", "refresh_gauges"]

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


class Reconcile:
    """The `reconcile` job (one replica at a time)."""

    name = "reconcile"
    singleton = True

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def run(self) -> ReconcileReport:
        """Refresh the gauges and record the drift between the remotes and the record."""
        await refresh_gauges(self._rt)
        report = await reconcile(self._rt)
        record_drift(self._rt.metrics, report)
        if report.drift:
            log.warning("reconcile found drift", cases=report.cases, items=len(report.drift))
        return report
