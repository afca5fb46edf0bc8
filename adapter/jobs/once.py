"""`run --once`: every job until nothing is due, then report what still waits.

The service's jobs, in one process and this order: polls each tenant's feed once, stores
the consent expiries that are due (the expiry job), purges the closed cases whose retention
time has passed (the retention job), takes over expired leases, then plans and dispatches
in turns until a turn does nothing. Retries that fall due within
`max_wait_s` are waited for; later ones (and work held behind parked operations) are left
for the next run and reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from adapter.jobs.dispatch import Dispatch
from adapter.jobs.expiry import Expiry
from adapter.jobs.feed_poll import FeedPoll
from adapter.jobs.plan_step import PlanStep
from adapter.jobs.retention import Retention
from adapter.store.states import OperationState
from adapter.wiring.runtime import Runtime

__all__ = ["RunOnceReport", "run_once"]


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
        report.events_polled = await FeedPoll(rt).run()
    await Expiry(rt).run()
    await Retention(rt).run()
    deadline = rt.clock() + timedelta(seconds=max_wait_s)
    dispatch, plan = Dispatch(rt), PlanStep(rt)
    await dispatch.take_over_expired()
    idle_turns = 0
    while True:
        planned = await plan.run()
        report.events_planned += planned.events_planned
        ran = await dispatch.run_pass()
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
