"""Stafettholder changes and follow-up deadlines (computation, calendar entries, status)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from adapter.planning import OpKind, deadline_for
from tests.unit.planning.factory import (
    OTHER_NIN,
    TENANTS,
    Stream,
    decisions_by_seq,
    ops_of,
    run,
    tail,
    with_plan,
)


def _change(s: Stream, service: str, accepted: bool) -> int:
    event = s.add(
        "stafettholder.changed",
        {
            "name": "Ny Holder",
            "nin": OTHER_NIN,
            "service": service,
            "accepted_at": "2026-03-02T09:00:00+01:00" if accepted else None,
        },
    )
    return event.sequence


@pytest.mark.parametrize("tenant", TENANTS)
def test_lead_changes_only_with_accepted_at(tenant: str) -> None:
    """A change without accepted_at is only recorded; with it CHANGE_LEAD follows."""
    s = with_plan(tenant)
    _change(s, "skole", accepted=False)
    assert ops_of(run(s.events, tenant), OpKind.CHANGE_LEAD) == []
    accepted = _change(s, "skole", accepted=True)
    result = run(s.events, tenant)
    (change,) = ops_of(result, OpKind.CHANGE_LEAD)
    assert change.cause_sequence == accepted
    assert change.payload["lead"]["nin"] == OTHER_NIN
    assert result.state.stafettholder is not None
    assert result.state.stafettholder.nin == OTHER_NIN


@pytest.mark.parametrize("tenant", TENANTS)
def test_lead_change_waits_for_consent_to_the_new_service(tenant: str) -> None:
    """An accepted change to an uncovered service is held until a consent covers it."""
    s = with_plan(tenant)
    accepted = _change(s, "ppt", accepted=True)
    first = run(s.events, tenant)
    assert decisions_by_seq(first)[accepted][0] == "held"
    s.consent("C2", ["ppt"])
    second = run(s.events[-1:], tenant, state=first.state)
    assert [op.kind for op in second.operations] == [OpKind.ADD_CONSENT, OpKind.CHANGE_LEAD]


def _decide(outcome: str, next_due: str | None = None, *, plan: bool = True) -> Stream:
    s = with_plan("modum") if plan else Stream("modum")
    if not plan:
        s.open()
    s.decision(outcome, next_due=next_due, at="2026-03-10T15:00:00+01:00")
    return s


@pytest.mark.parametrize(("outcome", "days"), [("continue", 28), ("escalate", 28), ("refer", 42)])
def test_deadline_from_decision(outcome: str, days: int) -> None:
    """continue/escalate → date + 28 days, refer → + 42, as a 12:00 Oslo calendar entry."""
    result = run(_decide(outcome).events)
    deadline = date(2026, 3, 10) + timedelta(days=days)
    assert result.state.deadline is not None
    assert result.state.deadline.deadline == deadline
    (entry,) = ops_of(result, OpKind.CREATE_CALENDAR)
    assert entry.link == "deadline:4"
    assert tail(entry) == "deadline:4"
    expected = {
        "title": "Frist for neste møte",
        "kind": "frist",
        "status": "planned",
        "participant_links": [],
    }
    assert {k: entry.payload[k] for k in expected} == expected
    assert entry.payload["start"] == entry.payload["end"]
    offset = "+02:00" if deadline >= date(2026, 3, 29) else "+01:00"
    assert entry.payload["start"] == f"{deadline.isoformat()}T12:00:00{offset}"


def test_next_meeting_due_earlier_wins() -> None:
    """next_meeting_due earlier than the computed deadline becomes the deadline."""
    result = run(_decide("refer", "2026-03-20").events)
    assert result.state.deadline is not None
    assert result.state.deadline.deadline == date(2026, 3, 20)


def test_next_meeting_due_later_is_ignored() -> None:
    """next_meeting_due later than the computed deadline does not extend it."""
    result = run(_decide("continue", "2026-06-01").events)
    assert result.state.deadline is not None
    assert result.state.deadline.deadline == date(2026, 4, 7)


def test_newer_decision_cancels_older_entry() -> None:
    """A newer decision cancels the older deadline entry and creates its own."""
    s = _decide("continue")
    newer = s.decision("refer")
    result = run(s.events)
    cancel = ops_of(result, OpKind.UPDATE_CALENDAR)
    assert [(tail(op), op.payload["entry_link"], op.payload["status"]) for op in cancel] == [
        (f"deadline:4#{newer.sequence}", "deadline:4", "cancelled")
    ]
    assert [op.link for op in ops_of(result, OpKind.CREATE_CALENDAR)] == [
        "deadline:4",
        f"deadline:{newer.sequence}",
    ]


def test_deadline_without_plan_is_kept_in_state_only() -> None:
    """A decision before the plan sets the deadline but sends nothing to Samspill."""
    result = run(_decide("continue", plan=False).events)
    assert result.operations == ()
    assert result.state.deadline is not None


@pytest.mark.parametrize(
    ("outcome", "day", "over"),
    [
        ("continue", 27, 0),
        ("continue", 28, 0),
        ("continue", 29, 1),
        ("refer", 41, 0),
        ("refer", 42, 0),
        ("refer", 43, 1),
    ],
)
def test_deadline_for_counts_days_over(outcome: str, day: int, over: int) -> None:
    """Without a meeting, days over count from the day after the deadline."""
    state = run(_decide(outcome).events).state
    status = deadline_for(state, date(2026, 3, 10) + timedelta(days=day))
    assert status is not None
    assert (status.met, status.days_over) == (False, over)


def test_deadline_met_by_a_meeting_on_the_deadline_not_a_cancelled_one() -> None:
    """A meeting on the deadline date meets it; a cancelled earlier one does not count."""
    s = _decide("continue")
    s.meeting("M1", "2026-03-20T10:00:00+01:00")
    s.add("meeting.cancelled", {"meeting_id": "M1"})
    s.meeting("M2", "2026-04-07T18:00:00+02:00")
    status = deadline_for(run(s.events).state, date(2026, 5, 1))
    assert status is not None
    assert status.met is True
    assert status.days_over == 0
    assert status.next_meeting is not None
    assert status.next_meeting.date() == date(2026, 4, 7)


def test_deadline_missed_by_a_meeting_after_it() -> None:
    """A meeting after the deadline does not meet it."""
    s = _decide("continue")
    s.meeting("M1", "2026-04-08T10:00:00+02:00")
    status = deadline_for(run(s.events).state, date(2026, 4, 9))
    assert status is not None
    assert (status.met, status.days_over) == (False, 2)


def test_no_deadline_status_for_closed_case_or_no_decision() -> None:
    """deadline_for is None without a deadline decision and once the case is closed."""
    s = with_plan("modum")
    assert deadline_for(run(s.events).state, date(2026, 5, 1)) is None
    s = _decide("continue")
    s.add("case.closed", {"reason": "other"})
    assert deadline_for(run(s.events).state, date(2026, 5, 1)) is None
