"""The deadline report: cases whose next meeting is missing or later than the deadline.

`overdue_cases` is pure: stored case states and a date in, report rows out (it asks the
planner's `deadline_for` for each case). `deadline_report` reads the case states of the
store and hands them over; `oslo_today` turns the process clock into the Oslo date every
deadline is judged by (domain.md).

A case is listed when its deadline is not met and either the deadline has passed (no
meeting, or only meetings after it) or the next meeting is already scheduled after it
(late for certain, listed before the day comes with `days_over` 0). A case whose deadline
is still ahead with no meeting yet is not listed: there is still time to schedule one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from adapter.planning import CaseState
from adapter.planning.clock import oslo_date
from adapter.planning.rules.deadlines import deadline_for
from adapter.store.store import Store
from adapter.wiring.runtime import Runtime

__all__ = [
    "DeadlineRow",
    "Deadlines",
    "deadline_report",
    "oslo_today",
    "overdue_cases",
    "overdue_counts",
]


@dataclass(frozen=True)
class DeadlineRow:
    """One overdue case: the contract's `deadlines --json` item."""

    tenant: str
    case_id: str
    deadline: date
    next_meeting_at: datetime | None
    days_over: int

    def as_json(self) -> dict[str, object]:
        """`{"tenant", "case_id", "deadline", "next_meeting_at", "days_over"}` (ISO strings)."""
        return {
            "tenant": self.tenant,
            "case_id": self.case_id,
            "deadline": self.deadline.isoformat(),
            "next_meeting_at": (
                None if self.next_meeting_at is None else self.next_meeting_at.isoformat()
            ),
            "days_over": self.days_over,
        }


def oslo_today(clock: Callable[[], datetime]) -> date:
    """The Oslo calendar date of the clock's now."""
    return oslo_date(clock())


def overdue_cases(states: Iterable[CaseState], today: date) -> list[DeadlineRow]:
    """The overdue cases among `states` on `today`, most days over first, then by case."""
    rows: list[DeadlineRow] = []
    for state in states:
        status = deadline_for(state, today)
        if status is None or status.met:
            continue
        if today <= status.deadline and status.next_meeting is None:
            continue  # still time to schedule the meeting
        rows.append(
            DeadlineRow(
                tenant=state.tenant,
                case_id=state.case_id,
                deadline=status.deadline,
                next_meeting_at=status.next_meeting,
                days_over=status.days_over,
            )
        )
    rows.sort(key=lambda r: (-r.days_over, r.tenant, r.case_id))
    return rows


def overdue_counts(rows: Iterable[DeadlineRow], tenants: Iterable[str]) -> dict[str, int]:
    """Overdue cases per tenant; every tenant of `tenants` is present (0 when none)."""
    counts = Counter(r.tenant for r in rows)
    return {tenant: counts.get(tenant, 0) for tenant in tenants}


async def deadline_report(
    store: Store, today: date, *, tenant: str | None = None
) -> list[DeadlineRow]:
    """The overdue cases of the store (of `tenant` when given) on `today`."""
    records = await store.cases.list_cases(tenant)
    states = (CaseState.model_validate_json(r.state) for r in records if r.purged_at is None)
    return overdue_cases(states, today)


class Deadlines:
    """The `deadlines` job (one replica at a time): the overdue-cases gauge per tenant."""

    name = "deadlines"
    singleton = True

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def run(self) -> list[DeadlineRow]:
        """Set the overdue-cases gauge per tenant on today's Oslo date; the overdue cases."""
        rows = await deadline_report(self._rt.store, oslo_today(self._rt.clock))
        for tenant, n in overdue_counts(rows, self._rt.settings.tenants).items():
            self._rt.metrics.deadlines_overdue.labels(tenant).set(n)
        return rows
