"""`run --once`: every job until nothing is due, then report what still waits.

Polls each tenant's feed once, stores the consent expiries that are due (the expiry job),
purges the closed cases whose retention time has passed (the retention job), then plans
and dispatches in turns until a turn does nothing. Retries that fall due within
`max_wait_s` are waited for; later ones (and work held behind parked operations) are left
for the next run and reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from adapter.errors import TransientError
from adapter.intake.feed import poll_feed
from adapter.logs import get_logger
from adapter.planning.clock import oslo_date
from adapter.runner.expiry import store_expiries
from adapter.runner.plan_step import plan_pending
from adapter.runner.retention import purge_expired_cases
from adapter.runner.runtime import Runtime
from adapter.store.states import OperationState

__all__ = ["RunOnceReport", "poll_all", "run_once"]

log = get_logger(__name__)


@dataclass
class RunOnceReport:
    """The contract's `run --once --json` object (plus what was polled)."""

    events_polled: int = 0
    events_planned: int = 0
    operations_done: int = 0
    operations_pending: int = 0
    parked_cases: int = 0

    def as_json(self) -> dict[str, int]:
        """`{"events_planned", "operations_done", "operations_pending", "parked_cases"}`."""
        return {
            "events_planned": self.events_planned,
            "operations_done": self.operations_done,
            "operations_pending": self.operations_pending,
            "parked_cases": self.parked_cases,
        }


async def poll_all(rt: Runtime) -> int:
    """Poll every tenant's feed once; a feed that fails is logged and skipped."""
    stored = 0
    for tenant in rt.settings.tenants.values():
        if not tenant.feed.enabled:
            continue
        try:
            report = await poll_feed(tenant, http=rt.http, store=rt.store, rules=rt.lookup)
        except TransientError as exc:
            log.warning("feed poll failed", tenant=tenant.key, error=str(exc))
            continue
        stored += len(report.receipts)
        rt.metrics.last_poll.labels(tenant.key).set(rt.clock().timestamp())
    return stored


async def run_once(
    rt: Runtime,
    *,
    max_wait_s: float = 60.0,
    poll: bool = True,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> RunOnceReport:
    """Poll, plan and dispatch until nothing is due within `max_wait_s`; report the rest."""
    report = RunOnceReport()
    if poll:
        report.events_polled = await poll_all(rt)
    await store_expiries(rt.store, rt.lookup, oslo_date(rt.clock()))
    await purge_expired_cases(rt.store, rt.settings, rt.clock())
    deadline = rt.clock() + timedelta(seconds=max_wait_s)
    await rt.store.outbox.release_expired_leases(rt.clock())
    dispatcher = rt.dispatcher()
    idle_turns = 0
    while True:
        planned = await plan_pending(rt.store, rt.rules, rt.lookup)
        report.events_planned += planned.events_planned
        ran = await dispatcher.run_pass()
        report.operations_done += ran.done
        if planned.cases or ran.ran:
            idle_turns = 0
            continue
        due = await rt.store.outbox.next_due_at()
        now = rt.clock()
        if due is None or due > deadline:
            break  # nothing waits, or what waits falls due too late for this run
        if due <= now:
            # due, yet nothing ran: held behind parked work (or just fell due: one more turn)
            idle_turns += 1
            if idle_turns > 1:
                break
            continue
        await sleep((due - now).total_seconds())
    counts = await rt.store.outbox.count_operations_by_state()
    report.operations_pending = sum(
        counts[s]
        for s in (OperationState.PENDING, OperationState.IN_FLIGHT, OperationState.UNKNOWN)
    )
    report.parked_cases = len(await rt.store.outbox.parked_cases())
    return report
