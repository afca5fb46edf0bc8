"""Plan creation, level 0 and carry-in, for Modum (plan at 2/2) and Vardø (1/1)."""

from __future__ import annotations

import pytest

from adapter.planning import OpKind, Target
from adapter.profiles import get_profile
from tests.unit.planning.factory import (
    CHILD_NIN,
    HOLDER_NIN,
    ORG,
    TENANTS,
    Stream,
    ops_of,
    pre_plan_step,
    run,
    tail,
)


@pytest.mark.parametrize("tenant", TENANTS)
def test_level_zero_events_never_reach_samspill(tenant: str) -> None:
    """Everything at level 0, even with a consent, produces no Samspill operation."""
    s = Stream(tenant)
    s.open()
    s.consent("C1", ["skole", "ppt"])
    s.participant("P1", "ppt")
    s.goal("G1")
    s.add("log.noted", {"note_id": "N1", "text": "Undring"})
    s.meeting("M1", "2026-04-01T10:00:00+02:00", kind="undringssamtale")
    s.decision("continue")
    result = run(s.events, tenant)
    assert [op for op in result.operations if op.target is Target.SAMSPILL] == []
    assert {d.outcome.value for d in result.decisions} == {"applied"}


@pytest.mark.parametrize("tenant", TENANTS)
def test_plan_created_when_step_comes_after_consent(tenant: str) -> None:
    """Consent first, then the plan step: the step event creates the plan."""
    s = Stream(tenant)
    s.open()
    s.consent("C1", ["skole"])
    before = run(s.events, tenant)
    assert ops_of(before, OpKind.CREATE_PLAN) == []
    step = s.step(*get_profile(tenant).create_plan_at)
    result = run(s.events, tenant)
    (create,) = ops_of(result, OpKind.CREATE_PLAN)
    assert create.cause_sequence == step.sequence
    assert create.link == "plan:stafettlogg"
    assert tail(create) == "plan:stafettlogg"
    assert create.payload["organization_number"] == ORG
    assert create.payload["main_person"]["nin"] == CHILD_NIN
    assert create.payload["lead"]["nin"] == HOLDER_NIN
    assert create.payload["affiliation"] == "skole"
    assert [(f["role"], f["link"]) for f in create.payload["family"]] == [
        ("foresatt", "guardian:G-mor"),
        ("foresatt", "guardian:2"),
    ]


@pytest.mark.parametrize("tenant", TENANTS)
def test_plan_created_when_consent_comes_after_step(tenant: str) -> None:
    """Plan step first, then the consent: the consent event creates the plan."""
    s = Stream(tenant)
    s.open()
    s.step(*get_profile(tenant).create_plan_at)
    assert ops_of(run(s.events, tenant), OpKind.CREATE_PLAN) == []
    consent = s.consent("C1", ["skole"])
    result = run(s.events, tenant)
    kinds = [op.kind for op in result.operations if op.cause_sequence == consent.sequence]
    assert kinds == [OpKind.CREATE_PLAN, OpKind.ADD_CONSENT]


@pytest.mark.parametrize("tenant", TENANTS)
def test_consent_not_covering_the_stafettholder_creates_no_plan(tenant: str) -> None:
    """A consent to another service than the stafettholder's does not create the plan."""
    s = Stream(tenant)
    s.open()
    s.step(*get_profile(tenant).create_plan_at)
    s.consent("C1", ["ppt"])
    assert ops_of(run(s.events, tenant), OpKind.CREATE_PLAN) == []


@pytest.mark.parametrize("tenant", TENANTS)
def test_steps_before_the_plan_step_create_no_plan(tenant: str) -> None:
    """A consent and the step just before the plan step: still no plan."""
    s = Stream(tenant)
    s.open()
    s.consent("C1", ["skole"])
    s.step(*pre_plan_step(tenant))
    assert ops_of(run(s.events, tenant), OpKind.CREATE_PLAN) == []


@pytest.mark.parametrize("tenant", TENANTS)
def test_carry_in_order_and_contents(tenant: str) -> None:
    """Carry-in order: consent, covered participant, goal, measure, responsibility, meeting."""
    s = Stream(tenant)
    s.open()
    s.goal("G0")
    s.participant("P0", "skole")
    s.add("log.noted", {"note_id": "N0", "text": "undring"})
    s.step(*get_profile(tenant).create_plan_at)
    s.participant("P1", "ppt")
    s.participant("P2", "barnevern")
    s.goal("G1")
    s.goal("G2")
    s.add("goal.closed", {"goal_id": "G2", "outcome": "discontinued"})
    s.measure("T1", participant="P1", start="2026-04-01")
    s.measure("T2", service="skole", start="2026-01-01", end="2026-02-01")
    s.add(
        "responsibility.assigned",
        {"responsibility_id": "A1", "participant_id": "G-mor", "task": "Ringe"},
    )
    s.meeting("M1", "2026-02-01T10:00:00+01:00", at="2026-03-02T12:00:00+01:00")
    s.meeting("M2", "2026-05-01T10:00:00+02:00", participants=("stafettholder", "P1", "P2"))
    s.meeting("M3", "2026-05-02T10:00:00+02:00")
    s.add("meeting.cancelled", {"meeting_id": "M3"})
    s.add("log.noted", {"note_id": "N1", "text": "notat"})
    s.consent("C1", ["skole", "ppt"])
    result = run(s.events, tenant)
    assert [tail(op) for op in result.operations if op.target is Target.SAMSPILL] == [
        "plan:stafettlogg",
        "consent:C1",
        "participant:P1",
        "goal:G1",
        "measure:T1",
        "responsibility:A1",
        "meeting:M2",
    ]
    (measure,) = ops_of(result, OpKind.CREATE_MEASURE)
    assert measure.payload["status"] == "planned"
    assert measure.payload["responsible_participant_link"] == "participant:P1"
    (meeting,) = ops_of(result, OpKind.CREATE_CALENDAR)
    assert meeting.payload["participant_links"] == ["lead", "participant:P1"]
    assert meeting.payload["title"] == "Nettverksmøte"
    (participant,) = ops_of(result, OpKind.ADD_PARTICIPANT)
    assert participant.payload["access_areas"] == list(rules_areas())
    assert all(op.payload.get("plan_link") == "plan:stafettlogg" for op in result.operations[1:])


def rules_areas() -> tuple[str, ...]:
    """The default access areas."""
    return ("mal-og-tiltak", "kalender", "logg", "dokumenter", "meldinger")


@pytest.mark.parametrize("tenant", TENANTS)
def test_plan_is_created_once(tenant: str) -> None:
    """Re-entering steps and more consents after the plan never create a second plan."""
    s = Stream(tenant)
    s.open()
    s.consent("C1", ["skole"])
    s.step(*get_profile(tenant).create_plan_at)
    s.consent("C2", ["skole", "ppt"])
    s.step(3, 1)
    assert len(ops_of(run(s.events, tenant), OpKind.CREATE_PLAN)) == 1


def test_created_items_after_the_plan_go_straight_to_it() -> None:
    """After the plan exists, a goal and a log note become CREATE_GOAL and APPEND_LOG."""
    s = Stream("modum")
    s.open()
    s.consent("C1", ["skole"])
    s.step(2, 2)
    s.goal("G1")
    note = s.add("log.noted", {"note_id": "N1", "text": "notat"})
    result = run(s.events)
    (log,) = ops_of(result, OpKind.APPEND_LOG)
    assert log.cause_sequence == note.sequence
    assert log.payload["author_name"] == "Kari Testansatt"
    assert log.link == "log:N1"
    assert [tail(op) for op in ops_of(result, OpKind.CREATE_GOAL)] == ["goal:G1"]
