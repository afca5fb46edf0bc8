"""Follow-up deadlines from BTI decisions, and the deadline status `stafett deadlines` shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from adapter.events import DecisionRecordedData, Outcome
from adapter.planning.clock import oslo_date, oslo_noon
from adapter.planning.operations import OpKind
from adapter.planning.payloads import CreateCalendar, UpdateCalendar
from adapter.planning.rules.context import Ctx
from adapter.planning.state import CaseState, DeadlineState, MeetingStatus

__all__ = ["DEADLINE_TITLE", "DeadlineStatus", "deadline_for", "record_decision", "share_deadline"]

DEADLINE_TITLE = "Frist for neste møte"
_FOLLOW_UP = frozenset({Outcome.CONTINUE, Outcome.ESCALATE, Outcome.REFER})


def record_decision(ctx: Ctx, data: DecisionRecordedData) -> None:
    """A newer decision cancels the older deadline entry; continue/escalate/refer set one."""
    old = ctx.state.deadline
    if old is not None and ctx.can_share and ctx.state.on_current_plan(old.link):
        assert old.link is not None
        ctx.emit(
            OpKind.UPDATE_CALENDAR,
            ("deadline", str(old.sequence)),
            UpdateCalendar(
                plan_link=ctx.plan_link, entry_link=old.link, status=MeetingStatus.CANCELLED
            ),
            suffix=ctx.seq,
        )
    if data.outcome not in _FOLLOW_UP:
        ctx.update(deadline=None)
        return
    decided_on = oslo_date(ctx.event.occurred_at)
    days = (
        ctx.rules.referral_follow_up_days
        if data.outcome is Outcome.REFER
        else ctx.rules.follow_up_days
    )
    deadline = decided_on + timedelta(days=days)
    if data.next_meeting_due is not None and data.next_meeting_due < deadline:
        deadline = data.next_meeting_due
    current = DeadlineState(
        sequence=ctx.seq,
        decided_at=ctx.event.occurred_at,
        deadline=deadline,
        level0=ctx.state.level == 0,
    )
    ctx.update(deadline=current)
    if ctx.can_share:
        share_deadline(ctx, current)


def share_deadline(ctx: Ctx, deadline: DeadlineState, *, suffix: str | None = None) -> None:
    """The calendar's deadline entry on the current plan: "Frist for neste møte" at 12:00.

    Created when the decision is recorded, carried in when the plan is created later, and
    created anew on the IP after a transfer (`suffix`).
    """
    internal_id = str(deadline.sequence)
    link = ctx.item_link("deadline", internal_id)
    noon = oslo_noon(deadline.deadline)
    ctx.emit(
        OpKind.CREATE_CALENDAR,
        ("deadline", internal_id),
        CreateCalendar(
            plan_link=ctx.plan_link,
            title=DEADLINE_TITLE,
            kind="frist",
            start=noon,
            end=noon,
            external_reference=ctx.item_ref("deadline", internal_id),
        ),
        suffix=suffix,
        link=link,
    )
    ctx.update(deadline=deadline.model_copy(update={"link": link}))


@dataclass(frozen=True)
class DeadlineStatus:
    """Where a case stands against its follow-up deadline on `today`."""

    case_id: str
    deadline: date
    decided_at: datetime
    next_meeting: datetime | None
    met: bool
    days_over: int


def deadline_for(state: CaseState, today: date) -> DeadlineStatus | None:
    """The case's deadline status on `today`; None without a deadline or once closed.

    Met when a meeting that is not cancelled starts after the decision and on or before the
    deadline (dates in Oslo); otherwise `days_over` counts the days past the deadline.
    """
    current = state.deadline
    if current is None or state.closed:
        return None
    starts = sorted(
        m.starts_at
        for m in state.meetings.values()
        if m.status is not MeetingStatus.CANCELLED and m.starts_at > current.decided_at
    )
    next_meeting = starts[0] if starts else None
    met = next_meeting is not None and oslo_date(next_meeting) <= current.deadline
    days_over = 0 if met else max(0, (today - current.deadline).days)
    return DeadlineStatus(
        case_id=state.case_id,
        deadline=current.deadline,
        decided_at=current.decided_at,
        next_meeting=next_meeting,
        met=met,
        days_over=days_over,
    )
