"""Internal `consent.expired` events: out of sequence, never waiting, replayed in place."""

from __future__ import annotations

from datetime import date

import pytest

from adapter.events import Event, validation_context
from adapter.jobs.expiry import expiry_event
from adapter.planning import CaseState, OpKind, Outcome, replay
from adapter.planning.rules.consent import lapsed_consents
from tests.unit.planning.factory import (
    TENANTS,
    Stream,
    decisions_by_seq,
    rules_for,
    run,
    tail,
    with_plan,
)


def _expired(state: CaseState, consent_id: str) -> Event:
    raw = expiry_event(state, state.consents[consent_id])
    return Event.model_validate(raw, context=validation_context(accept_synthetic_nin=True))


def _case_with_ppt_until(tenant: str, valid_to: str) -> Stream:
    s = with_plan(tenant)
    s.consent("C2", ["ppt"], valid_to=valid_to)
    s.participant("P1", "ppt")
    return s


@pytest.mark.parametrize("tenant", TENANTS)
def test_expiry_event_ends_the_consent_and_removes_what_it_alone_covered(tenant: str) -> None:
    """No later event: the internal event updates the consent and removes the participant."""
    s = _case_with_ppt_until(tenant, "2026-04-30")
    first = run(s.events, tenant)
    expired = _expired(first.state, "C2")
    assert expired.occurred_at.isoformat() == "2026-05-01T00:00:00+02:00"
    assert expired.sequence == first.state.last_sequence
    second = run([expired], tenant, state=first.state)
    assert [d.outcome for d in second.decisions] == [Outcome.APPLIED]
    last = first.state.last_sequence
    assert [(op.kind, tail(op)) for op in second.operations] == [
        (OpKind.UPDATE_CONSENT, f"consent:C2#{last}-consent.expired"),
        (OpKind.REMOVE_PARTICIPANT, f"participant:P1#{last}-consent.expired"),
    ]
    assert second.operations[0].payload["status"] == "expired"
    assert second.state.last_sequence == last  # it takes no sequence of its own
    assert second.state.consents["C2"].status.value == "expired"


@pytest.mark.parametrize("tenant", TENANTS)
def test_expiry_event_applies_although_a_sequence_gap_holds_the_case(tenant: str) -> None:
    """Sharing must stop on time: a gap in the sender's sequence does not delay an expiry."""
    s = _case_with_ppt_until(tenant, "2026-04-30")
    first = run(s.events, tenant)
    s.goal("G-missing")  # never delivered
    later = s.goal("G-later")
    expired = _expired(first.state, "C2")
    second = run([later, expired], tenant, state=first.state)
    decided = {d.event_id: d.outcome for d in second.decisions}
    assert decided[str(expired.event_id)] is Outcome.APPLIED
    assert decided[str(later.event_id)] is Outcome.HELD
    assert [op.kind for op in second.operations] == [
        OpKind.UPDATE_CONSENT,
        OpKind.REMOVE_PARTICIPANT,
    ]


@pytest.mark.parametrize("tenant", TENANTS)
def test_replay_applies_the_expiry_right_after_the_sequence_it_follows(tenant: str) -> None:
    """Replaying every stored event (resync) gives exactly the live run's operations."""
    s = _case_with_ppt_until(tenant, "2026-04-30")
    first = run(s.events, tenant)
    expired = _expired(first.state, "C2")
    second = run([expired], tenant, state=first.state)
    later = s.goal("G5", at="2026-06-01T10:00:00+02:00")
    third = run([later], tenant, state=second.state)
    live = [*first.operations, *second.operations, *third.operations]
    replayed = replay([*s.events, expired], rules_for(tenant))
    assert [op.op_ref for op in replayed.operations] == [op.op_ref for op in live]
    assert replayed.state == third.state


@pytest.mark.parametrize("tenant", TENANTS)
def test_expiry_of_a_consent_ended_already_is_a_recorded_no_op(tenant: str) -> None:
    """A consent withdrawn (or lapsed at an event) before the job's event: nothing to do."""
    s = _case_with_ppt_until(tenant, "2026-04-30")
    expired = _expired(run(s.events, tenant).state, "C2")
    s.add("consent.withdrawn", {"consent_id": "C2"})
    first = run(s.events, tenant)
    second = run([expired], tenant, state=first.state)
    (decision,) = second.decisions
    assert (decision.outcome, decision.reason) == (
        Outcome.DUPLICATE,
        "nothing to do: it has ended already",
    )
    assert second.operations == ()


def test_lapsed_consents_are_judged_with_valid_to_inclusive() -> None:
    """valid_to is the last day the consent holds: it lapses on the day after."""
    s = _case_with_ppt_until("modum", "2026-04-30")
    state = run(s.events, "modum").state
    assert lapsed_consents(state, date(2026, 4, 30)) == []
    assert [c.consent_id for c in lapsed_consents(state, date(2026, 5, 1))] == ["C2"]


def test_a_held_event_is_not_lost_to_an_expiry() -> None:
    """An expiry between events leaves held work held, with its reason."""
    s = _case_with_ppt_until("modum", "2026-04-30")
    held = s.participant("P9", "barnevern")
    first = run(s.events, "modum")
    assert decisions_by_seq(first)[held.sequence][0] == "held"
    second = run([_expired(first.state, "C2")], "modum", state=first.state)
    assert [h.sequence for h in second.state.held] == [held.sequence]
