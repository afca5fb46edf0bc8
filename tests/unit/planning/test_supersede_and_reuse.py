"""Later instructions win: superseded held events, refused re-creates, changed hold reasons."""

from __future__ import annotations

import pytest

from adapter.events import Event
from adapter.planning import OpKind, Outcome
from tests.unit.planning.factory import (
    OTHER_NIN,
    TENANTS,
    Stream,
    decisions_by_seq,
    ops_of,
    run,
    with_plan,
)


def _baton(s: Stream, name: str, service: str) -> Event:
    return s.add(
        "stafettholder.changed",
        {
            "name": name,
            "nin": OTHER_NIN,
            "service": service,
            "accepted_at": "2026-03-20T10:00:00+01:00",
        },
    )


@pytest.mark.parametrize("tenant", TENANTS)
def test_an_older_held_baton_change_never_overrides_a_newer_accepted_one(tenant: str) -> None:
    """A (held, no consent for ppt) then B (applied): a later ppt consent must not move it to A."""
    s = with_plan(tenant)
    older = _baton(s, "Holder A", "ppt")
    newer = _baton(s, "Holder B", "skole")
    s.consent("C2", ["ppt"])
    result = run(s.events, tenant)
    decided = decisions_by_seq(result)
    assert decided[older.sequence] == ("duplicate", f"superseded by sequence {newer.sequence}")
    leads = [op.payload["lead"]["name"] for op in ops_of(result, OpKind.CHANGE_LEAD)]
    assert leads == ["Holder B"]
    assert result.state.stafettholder is not None
    assert result.state.stafettholder.name == "Holder B"
    assert result.state.held == ()


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_corrected_participant_supersedes_its_held_first_version(tenant: str) -> None:
    """P1 for ppt (held), then P1 for skole (shared): the held one is dropped, not replayed."""
    s = with_plan(tenant)
    first = s.participant("P1", "ppt")
    second = s.participant("P1", "skole")
    meeting = s.meeting("M1", "2026-06-01T10:00:00+02:00", participants=("P1",))
    s.consent("C2", ["ppt"])
    result = run(s.events, tenant)
    decided = decisions_by_seq(result)
    assert decided[first.sequence] == ("duplicate", f"superseded by sequence {second.sequence}")
    assert decided[meeting.sequence] == ("applied", None)
    (added,) = ops_of(result, OpKind.ADD_PARTICIPANT)
    assert added.payload["service"] == "skole"
    assert result.state.participants["P1"].service == "skole"
    assert result.state.held_items == ()


@pytest.mark.parametrize("tenant", TENANTS)
def test_two_held_versions_of_a_participant_leave_only_the_newer(tenant: str) -> None:
    """Both held: the newer replaces the older at once; the consent releases just the newer."""
    s = with_plan(tenant)
    s.participant("P1", "ppt")
    newer = s.participant("P1", "barnevern")
    s.consent("C2", ["ppt", "barnevern"])
    result = run(s.events, tenant)
    assert [h.sequence for h in result.state.held] == []
    (added,) = ops_of(result, OpKind.ADD_PARTICIPANT)
    assert (added.payload["service"], added.cause_sequence) == ("barnevern", newer.sequence)


@pytest.mark.parametrize(
    ("kind", "data", "hint"),
    [
        (
            "goal.set",
            {"goal_id": "G1", "title": "Igjen"},
            "goal 'G1' exists already; use goal.updated",
        ),
        (
            "measure.agreed",
            {
                "measure_id": "T1",
                "title": "Igjen",
                "arena": "skole",
                "responsible_service": "skole",
                "start_date": "2026-03-01",
            },
            "measure 'T1' exists already; use measure.updated",
        ),
        (
            "meeting.scheduled",
            {
                "meeting_id": "M1",
                "kind": "nettverksmote",
                "starts_at": "2026-07-01T10:00:00+02:00",
                "ends_at": "2026-07-01T11:00:00+02:00",
                "participant_ids": [],
            },
            "meeting 'M1' exists already; use meeting.rescheduled",
        ),
        ("log.noted", {"note_id": "N1", "text": "Igjen"}, "log note 'N1' exists already"),
        (
            "consent.granted",
            {
                "consent_id": "C1",
                "given_by": [{"name": "Giver Test", "nin": OTHER_NIN, "relation": "mor"}],
                "services": ["skole", "ppt"],
                "valid_from": "2026-01-01",
                "valid_to": None,
            },
            "consent 'C1' was granted before",
        ),
        (
            "participant.added",
            {
                "participant_id": "P1",
                "name": "Ny Test",
                "nin": None,
                "role": "deltaker",
                "service": "skole",
            },
            "participant 'P1' is in the case already",
        ),
    ],
)
def test_a_create_of_an_existing_item_id_is_rejected_not_lost(
    kind: str, data: dict[str, object], hint: str
) -> None:
    """The outbox keeps one operation per op_ref: a second create would vanish silently."""
    s = with_plan("modum")
    s.goal("G1")
    s.measure("T1")
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.add("log.noted", {"note_id": "N1", "text": "Første"})
    s.participant("P1", "skole")
    again = s.add(kind, data)
    result = run(s.events, "modum")
    outcome, reason = decisions_by_seq(result)[again.sequence]
    assert outcome == "rejected"
    assert reason is not None and reason.startswith(hint)
    assert [op for op in result.operations if op.cause_sequence == again.sequence] == []


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_held_event_whose_reason_changes_reports_the_new_reason(tenant: str) -> None:
    """Held for ppt's consent; then the lead's consent ends too: the decision says so."""
    s = with_plan(tenant)
    held = s.measure("T1", service="ppt")
    first = run(s.events, tenant)
    assert decisions_by_seq(first)[held.sequence][1] == "no active consent covers service 'ppt'"
    withdrawn = s.add("consent.withdrawn", {"consent_id": "C1"})
    second = run([withdrawn], tenant, state=first.state)
    assert [(d.event_id, d.outcome, d.reason) for d in second.decisions] == [
        (str(withdrawn.event_id), Outcome.APPLIED, None),
        (str(held.event_id), Outcome.HELD, "no active consent covers service 'skole'"),
    ]
    assert [h.reason for h in second.state.held] == ["no active consent covers service 'skole'"]
