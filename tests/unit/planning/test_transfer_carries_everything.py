"""What the transfer API does not copy reaches the IP anyway; the summary is a snapshot."""

from __future__ import annotations

import pytest

from adapter.planning import OpKind
from adapter.profiles import get_profile
from tests.unit.planning.factory import (
    TENANTS,
    Stream,
    ops_of,
    run,
    tail,
    with_plan,
)


def _case_before_transfer(tenant: str) -> Stream:
    s = with_plan(tenant)
    s.participant("P1", "skole")
    s.goal("G1")
    s.measure("T1", service="skole", start="2026-03-01", end="2026-04-01")
    s.add(
        "responsibility.assigned",
        {"responsibility_id": "A1", "participant_id": "P1", "task": "Ring skolen"},
    )
    s.meeting("M0", "2026-03-03T10:00:00+01:00", participants=("P1",))
    s.held("M0")
    s.meeting("M1", "2026-06-01T10:00:00+02:00", participants=("P1", "G-mor"))
    s.decision("continue")
    return s


@pytest.mark.parametrize("tenant", TENANTS)
def test_future_meetings_open_duties_and_the_deadline_are_created_on_the_ip(tenant: str) -> None:
    """After TRANSFER_PLAN: M1 (future), A1 (open) and the deadline entry, on plan:ip."""
    s = _case_before_transfer(tenant)
    granted = s.ip("skole")
    result = run(s.events, tenant)
    caused = [op for op in result.operations if op.cause_sequence == granted.sequence]
    samspill = [(op.kind, tail(op), op.link) for op in caused if op.target.value == "samspill"]
    decision = s.events[-2].sequence
    assert samspill == [
        (OpKind.TRANSFER_PLAN, "plan:ip", "plan:ip"),
        (OpKind.CREATE_CALENDAR, "meeting:M1#ip", "ip/meeting:M1"),
        (OpKind.CREATE_RESPONSIBILITY, "responsibility:A1#ip", "ip/responsibility:A1"),
        (OpKind.CREATE_CALENDAR, f"deadline:{decision}#ip", f"ip/deadline:{decision}"),
    ]
    meeting = caused[1]
    assert meeting.payload["plan_link"] == "plan:ip"
    assert meeting.payload["participant_links"] == ["ip/participant:P1", "ip/guardian:G-mor"]
    assert meeting.payload["external_reference"].endswith(":meeting:M1")
    assert caused[2].payload["participant_link"] == "ip/participant:P1"


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_meeting_rescheduled_after_the_transfer_updates_its_ip_entry(tenant: str) -> None:
    """Later meeting and duty events go to the entries on the IP."""
    s = _case_before_transfer(tenant)
    s.ip("skole")
    s.add(
        "meeting.rescheduled",
        {
            "meeting_id": "M1",
            "starts_at": "2026-06-02T10:00:00+02:00",
            "ends_at": "2026-06-02T11:00:00+02:00",
        },
    )
    s.add("responsibility.completed", {"responsibility_id": "A1"})
    result = run(s.events, tenant)
    (moved,) = [op for op in ops_of(result, OpKind.UPDATE_CALENDAR) if op.payload.get("start")]
    assert (moved.payload["plan_link"], moved.payload["entry_link"]) == (
        "plan:ip",
        "ip/meeting:M1",
    )
    (done,) = ops_of(result, OpKind.UPDATE_RESPONSIBILITY)
    assert done.payload["responsibility_link"] == "ip/responsibility:A1"


@pytest.mark.parametrize("tenant", TENANTS)
def test_the_closing_summary_is_the_stafettlogg_at_the_transfer(tenant: str) -> None:
    """Goals set on the IP later never appear in the stafettlogg's summary."""
    s = _case_before_transfer(tenant)
    granted = s.ip("skole")
    s.goal("G-ip")
    result = run(s.events, tenant)
    (summary,) = [
        op for op in ops_of(result, OpKind.CREATE_DOCUMENT) if op.link == "summary:stafettlogg"
    ]
    snapshot = summary.payload["summary"]
    assert [g["title"] for g in snapshot["goals"]] == ["Mål G1"]
    assert [(m["title"], m["status"]) for m in snapshot["measures"]] == [("Tiltak T1", "active")]
    assert [m["kind"] for m in snapshot["meetings_held"]] == ["nettverksmote"]
    assert snapshot["participants"] == [{"role": "deltaker", "service": "skole"}]
    assert snapshot["transferred_at"] == granted.occurred_at.isoformat()
    assert "nin" not in str(snapshot)


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_deadline_still_ahead_is_carried_into_a_new_plan(tenant: str) -> None:
    """A decision before the plan (the consent came later): its entry comes with the carry-in."""
    s = Stream(tenant)
    s.open(*get_profile(tenant).create_plan_at)
    decided = s.decision("refer")
    s.consent("C1", ["skole"])
    result = run(s.events, tenant)
    (plan,) = ops_of(result, OpKind.CREATE_PLAN)
    assert plan.cause_sequence == decided.sequence + 1
    entries = ops_of(result, OpKind.CREATE_CALENDAR)
    assert [(tail(op), op.payload["kind"]) for op in entries] == [
        (f"deadline:{decided.sequence}", "frist")
    ]
    assert result.state.deadline is not None
    assert result.state.deadline.link == f"deadline:{decided.sequence}"


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_level_0_deadline_stays_home(tenant: str) -> None:
    """Level 0 stays home: a decision taken there sets no entry in the new plan."""
    s = Stream(tenant)
    s.open(0, 1)
    s.consent("C1", ["skole"])
    s.decision("escalate")
    s.step(*get_profile(tenant).create_plan_at)
    result = run(s.events, tenant)
    assert len(ops_of(result, OpKind.CREATE_PLAN)) == 1
    assert ops_of(result, OpKind.CREATE_CALENDAR) == []
