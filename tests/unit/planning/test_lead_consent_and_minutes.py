"""Sharing needs the lead's service covered; minutes reach the archive whatever waits."""

from __future__ import annotations

import pytest

from adapter.planning import OpKind, Target
from tests.unit.planning.factory import (
    CHILD_NIN,
    TENANTS,
    decisions_by_seq,
    ops_of,
    run,
    tail,
    with_plan,
)


@pytest.mark.parametrize("tenant", TENANTS)
def test_content_waits_while_no_consent_covers_the_lead_s_service(tenant: str) -> None:
    """C1 (skole, the stafettholder's service) withdrawn: goals and notes are held, not sent."""
    s = with_plan(tenant)
    s.add("consent.withdrawn", {"consent_id": "C1"})
    goal = s.goal("G1")
    note = s.add("log.noted", {"note_id": "N1", "text": "Notat"})
    removal_ok = s.add("step.entered", {"level": 2, "step": 1})
    result = run(s.events, tenant)
    decided = decisions_by_seq(result)
    reason = "no active consent covers service 'skole'"
    assert decided[goal.sequence] == ("held", reason)
    assert decided[note.sequence] == ("held", reason)
    assert decided[removal_ok.sequence] == ("applied", None)
    assert ops_of(result, OpKind.CREATE_GOAL) == []
    assert ops_of(result, OpKind.APPEND_LOG) == []
    renewed = s.consent("C3", ["skole"])
    released = run([renewed], tenant, state=result.state)
    assert [tail(op) for op in released.operations] == ["consent:C3", "goal:G1", "log:N1"]


@pytest.mark.parametrize("tenant", TENANTS)
def test_closing_a_case_goes_through_without_the_lead_s_consent(tenant: str) -> None:
    """Closing shares nothing: it closes the plan even after every consent has ended."""
    s = with_plan(tenant)
    s.add("consent.withdrawn", {"consent_id": "C1"})
    closed = s.add("case.closed", {"reason": "guardian-request"})
    result = run(s.events, tenant)
    assert decisions_by_seq(result)[closed.sequence] == ("applied", None)
    (close,) = ops_of(result, OpKind.CLOSE_PLAN)
    assert close.payload["reason"] == "guardian-request"


@pytest.mark.parametrize("tenant", TENANTS)
def test_minutes_of_a_meeting_held_behind_a_held_transfer_are_archived_at_once(
    tenant: str,
) -> None:
    """The IP transfer waits for the coordinator's consent; the minutes do not."""
    s = with_plan(tenant)
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.ip("psykisk-helse")
    held = s.held("M1")
    first = run(s.events, tenant)
    assert decisions_by_seq(first)[held.sequence][0] == "held"
    (document,) = ops_of(first, OpKind.CREATE_DOCUMENT)
    assert (document.target, tail(document)) == (Target.P360, "minutes:M1")
    assert ops_of(first, OpKind.APPEND_LOG) == []
    consent = s.consent("C2", ["psykisk-helse"])
    second = run([consent], tenant, state=first.state)
    minutes = [
        op for op in ops_of(second, OpKind.CREATE_DOCUMENT) if op.link and "minutes" in op.link
    ]
    assert minutes == []  # not archived twice
    (log,) = ops_of(second, OpKind.APPEND_LOG)
    assert (log.waits_for, log.payload["plan_link"]) == (document.op_ref, "plan:ip")
    assert second.state.minutes_archived == {}


@pytest.mark.parametrize("tenant", TENANTS)
def test_minutes_after_the_case_closed_still_go_to_the_archive(tenant: str) -> None:
    """After case.closed only the archive hears of minutes (the document then parks on the
    closed archive case, for an archivist); Samspill hears nothing."""
    s = with_plan(tenant)
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.held("M1")
    s.add("case.closed", {"reason": "goals-achieved"})
    late = s.held("M1")
    other = s.goal("G9")
    result = run(s.events, tenant)
    decided = decisions_by_seq(result)
    assert decided[late.sequence] == ("applied", None)
    assert decided[other.sequence] == ("rejected", "case is closed")
    caused = [op for op in result.operations if op.cause_sequence == late.sequence]
    assert [(op.kind, op.target) for op in caused] == [(OpKind.CREATE_DOCUMENT, Target.P360)]
    (close_case,) = ops_of(result, OpKind.CLOSE_CASE)
    assert result.operations.index(close_case) < result.operations.index(caused[0])


@pytest.mark.parametrize("tenant", TENANTS)
def test_minutes_of_a_meeting_held_again_are_a_document_and_log_line_of_their_own(
    tenant: str,
) -> None:
    """A second meeting.held gets its own document link and its own log reference."""
    s = with_plan(tenant)
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.held("M1")
    again = s.held("M1")
    result = run(s.events, tenant)
    documents = ops_of(result, OpKind.CREATE_DOCUMENT)
    assert [d.link for d in documents] == ["minutes:M1", f"minutes:M1#{again.sequence}"]
    logs = ops_of(result, OpKind.APPEND_LOG)
    refs = [log.payload["external_reference"].rsplit(":", 1)[1] for log in logs]
    assert refs == ["minutes-M1", f"minutes-M1-{again.sequence}"]
    assert [log.waits_for for log in logs] == [d.op_ref for d in documents]


@pytest.mark.parametrize("tenant", TENANTS)
def test_the_minutes_document_names_the_child_as_its_contact(tenant: str) -> None:
    """The child is the minutes' (unofficial) contact; the title never carries a name."""
    s = with_plan(tenant)
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.held("M1")
    (document,) = ops_of(run(s.events, tenant), OpKind.CREATE_DOCUMENT)
    assert document.payload["contact_nin"] == CHILD_NIN
    assert document.payload["title"] == "Referat – Nettverksmøte"
