"""The consent gate: holds and releases, withdrawal, expiry, validity dates, self-consent."""

from __future__ import annotations

import pytest

from adapter.planning import OpKind, Outcome
from tests.unit.planning.factory import (
    TENANTS,
    Stream,
    decisions_by_seq,
    ops_of,
    run,
    tail,
    with_plan,
)


@pytest.mark.parametrize("tenant", TENANTS)
def test_participant_without_consent_is_held_and_released_by_consent(tenant: str) -> None:
    """An uncovered participant is held; a covering consent releases it in the same call."""
    s = with_plan(tenant)
    added = s.participant("P1", "ppt")
    s.goal("G1")
    first = run(s.events, tenant)
    assert decisions_by_seq(first)[added.sequence] == (
        "held",
        "no active consent covers service 'ppt'",
    )
    assert ops_of(first, OpKind.ADD_PARTICIPANT) == []
    assert [tail(op) for op in ops_of(first, OpKind.CREATE_GOAL)] == ["goal:G1"]
    consent = s.consent("C2", ["ppt"])
    second = run([consent], tenant, state=first.state)
    assert [(d.event_id, d.outcome) for d in second.decisions] == [
        (str(consent.event_id), Outcome.APPLIED),
        (str(added.event_id), Outcome.APPLIED),
    ]
    assert [op.kind for op in second.operations] == [OpKind.ADD_CONSENT, OpKind.ADD_PARTICIPANT]
    assert second.state.held == ()


@pytest.mark.parametrize("tenant", TENANTS)
def test_events_referring_to_a_held_participant_are_held_too(tenant: str) -> None:
    """A measure and responsibility naming a held participant wait with it; a meeting naming
    them is shared without them and lists them once they are on the plan."""
    s = with_plan(tenant)
    added = s.participant("P1", "ppt")
    measure = s.measure("T1", participant="P1")
    resp = s.add(
        "responsibility.assigned", {"responsibility_id": "A1", "participant_id": "P1", "task": "x"}
    )
    meeting = s.meeting("M1", "2026-06-01T10:00:00+02:00", participants=("P1",))
    update = s.add("measure.updated", {"measure_id": "T1", "title": "Nytt"})
    goal = s.goal("G9")
    first = run(s.events, tenant)
    decided = decisions_by_seq(first)
    assert decided[measure.sequence] == ("held", "refers to held participant 'P1'")
    assert decided[resp.sequence] == ("held", "refers to held participant 'P1'")
    assert decided[meeting.sequence] == ("applied", None)
    assert decided[update.sequence] == ("held", "refers to held measure 'T1'")
    assert decided[goal.sequence] == ("applied", None)
    (entry,) = ops_of(first, OpKind.CREATE_CALENDAR)
    assert entry.payload["participant_links"] == []
    s.consent("C2", ["ppt"])
    second = run(s.events[-1:], tenant, state=first.state)
    assert [tail(op) for op in second.operations] == [
        "consent:C2",
        "participant:P1",
        f"meeting:M1#{added.sequence}-P1",
        "measure:T1",
        "responsibility:A1",
        f"measure:T1#{update.sequence}",
    ]
    (joined,) = ops_of(second, OpKind.UPDATE_CALENDAR)
    assert joined.payload["participant_links"] == ["participant:P1"]
    assert second.state.held_items == ()


@pytest.mark.parametrize("tenant", TENANTS)
def test_measure_with_uncovered_responsible_service_is_held(tenant: str) -> None:
    """measure.agreed with a responsible service no consent covers is held."""
    s = with_plan(tenant)
    measure = s.measure("T1", service="barnevern")
    assert decisions_by_seq(run(s.events, tenant))[measure.sequence] == (
        "held",
        "no active consent covers service 'barnevern'",
    )


@pytest.mark.parametrize("tenant", TENANTS)
def test_withdrawal_removes_only_solely_covered_participants(tenant: str) -> None:
    """Withdrawing C2 updates it and removes the ppt participant, not the one C1 covers."""
    s = with_plan(tenant)
    s.consent("C2", ["ppt", "skole"])
    s.participant("P-skole", "skole")
    s.participant("P-ppt", "ppt")
    withdrawn = s.add("consent.withdrawn", {"consent_id": "C2"})
    removed = s.add("participant.removed", {"participant_id": "P-ppt"})
    result = run(s.events, tenant)
    caused = [op for op in result.operations if op.cause_sequence == withdrawn.sequence]
    assert [(op.kind, tail(op)) for op in caused] == [
        (OpKind.UPDATE_CONSENT, f"consent:C2#{withdrawn.sequence}"),
        (OpKind.REMOVE_PARTICIPANT, f"participant:P-ppt#{withdrawn.sequence}"),
    ]
    assert caused[0].payload["status"] == "withdrawn"
    assert caused[1].payload["participant_link"] == "participant:P-ppt"
    assert [op for op in result.operations if op.cause_sequence == removed.sequence] == []


@pytest.mark.parametrize("tenant", TENANTS)
def test_nothing_new_is_shared_after_withdrawal(tenant: str) -> None:
    """After withdrawal a new participant of that service is held again."""
    s = with_plan(tenant)
    s.consent("C2", ["ppt"])
    s.participant("P1", "ppt")
    s.add("consent.withdrawn", {"consent_id": "C2"})
    again = s.participant("P1", "ppt")
    result = run(s.events, tenant)
    assert decisions_by_seq(result)[again.sequence][0] == "held"
    assert len(ops_of(result, OpKind.ADD_PARTICIPANT)) == 1


@pytest.mark.parametrize("tenant", TENANTS)
def test_readded_participant_after_withdrawal_gets_a_new_op_ref(tenant: str) -> None:
    """A participant removed by a consent's end comes back only by a new participant.added."""
    s = with_plan(tenant)
    s.consent("C2", ["ppt"])
    s.participant("P1", "ppt")
    s.add("consent.withdrawn", {"consent_id": "C2"})
    s.consent("C3", ["ppt"])
    again = s.participant("P1", "ppt")
    result = run(s.events, tenant)
    assert [tail(op) for op in ops_of(result, OpKind.ADD_PARTICIPANT)] == [
        "participant:P1",
        f"participant:P1#{again.sequence}",
    ]


@pytest.mark.parametrize("tenant", TENANTS)
def test_expiry_is_treated_like_withdrawal(tenant: str) -> None:
    """consent.expired marks the consent expired and removes solely covered participants."""
    s = with_plan(tenant)
    s.consent("C2", ["ppt"])
    s.participant("P1", "ppt")
    expired = s.add("consent.expired", {"consent_id": "C2"})
    result = run(s.events, tenant)
    caused = [op for op in result.operations if op.cause_sequence == expired.sequence]
    assert [op.kind for op in caused] == [OpKind.UPDATE_CONSENT, OpKind.REMOVE_PARTICIPANT]
    assert caused[0].payload["status"] == "expired"


@pytest.mark.parametrize("tenant", TENANTS)
def test_consent_is_judged_at_the_event_date(tenant: str) -> None:
    """A consent past its valid_to (inclusive) no longer covers; on valid_to it still does."""
    s = with_plan(tenant)
    s.consent("C2", ["ppt"], valid_from="2026-03-01", valid_to="2026-03-10")
    on_last_day = s.participant("P1", "ppt", at="2026-03-10T23:30:00+01:00")
    after = s.participant("P2", "ppt", at="2026-03-11T00:30:00+01:00")
    decided = decisions_by_seq(run(s.events, tenant))
    assert decided[on_last_day.sequence] == ("applied", None)
    assert decided[after.sequence][0] == "held"


@pytest.mark.parametrize("tenant", TENANTS)
def test_consent_before_valid_from_does_not_create_the_plan(tenant: str) -> None:
    """A consent valid from a later date creates the plan only at an event on or after it."""
    s = Stream(tenant)
    s.open()
    s.consent("C1", ["skole"], valid_from="2026-04-01", at="2026-03-20T10:00:00+01:00")
    s.step(*rules_step(tenant), at="2026-03-25T10:00:00+01:00")
    assert ops_of(run(s.events, tenant), OpKind.CREATE_PLAN) == []
    later = s.goal("G1", at="2026-04-01T09:00:00+02:00")
    (create,) = ops_of(run(s.events, tenant), OpKind.CREATE_PLAN)
    assert create.cause_sequence == later.sequence


def rules_step(tenant: str) -> tuple[int, int]:
    """The tenant's plan step."""
    return {"modum": (2, 2), "vardo": (1, 1)}[tenant]


@pytest.mark.parametrize(
    ("age_limit", "outcome"), [(15, "applied"), (16, "rejected")], ids=["15", "16"]
)
def test_self_consent_age_boundary(age_limit: int, outcome: str) -> None:
    """A child of 15 consents alone where the age is 15, not where it is 16."""
    s = Stream("modum")
    s.open()
    # the child is born 2012-05-14: 15 years old on 2027-05-14
    consent = s.consent("C1", ["skole"], relation="barnet", at="2027-05-14T10:00:00+02:00")
    decided = decisions_by_seq(run(s.events, self_consent_age=age_limit))
    assert decided[consent.sequence][0] == outcome
    if outcome == "rejected":
        assert decided[consent.sequence][1] == (
            f"consent given by the child counts only from age {age_limit}"
        )


def test_self_consent_the_day_before_the_birthday_is_rejected() -> None:
    """The day before the 15th birthday the child's own consent does not count."""
    s = Stream("modum")
    s.open()
    consent = s.consent("C1", ["skole"], relation="barnet", at="2027-05-13T10:00:00+02:00")
    assert decisions_by_seq(run(s.events))[consent.sequence][0] == "rejected"


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_consent_past_valid_to_lapses_at_the_next_event(tenant: str) -> None:
    """The first event after valid_to expires the consent and removes what only it covered."""
    s = with_plan(tenant)
    s.consent("C2", ["ppt"], valid_from="2026-03-01", valid_to="2026-03-10")
    s.participant("P1", "ppt", at="2026-03-05T10:00:00+01:00")
    later = s.add(
        "log.noted", {"note_id": "N9", "text": "Oppfølging."}, at="2026-03-12T09:00:00+01:00"
    )
    result = run(s.events, tenant)
    caused = [op for op in result.operations if op.cause_sequence == later.sequence]
    assert [op.kind for op in caused][:2] == [OpKind.UPDATE_CONSENT, OpKind.REMOVE_PARTICIPANT]
    assert caused[0].payload["status"] == "expired"
    assert result.state.consents["C2"].status.value == "expired"
