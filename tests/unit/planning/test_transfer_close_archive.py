"""IP transfer (direct and held), closing, and the archive operations."""

from __future__ import annotations

import pytest

from adapter.planning import OpKind, Target
from tests.unit.planning.factory import (
    CHILD_NIN,
    MOTHER_NIN,
    TENANTS,
    Stream,
    decisions_by_seq,
    ops_of,
    run,
    tail,
    with_plan,
)


def _plan_with_content(tenant: str) -> Stream:
    s = with_plan(tenant)
    s.participant("P1", "skole")
    s.goal("G1")
    s.goal("G2")
    s.add("goal.closed", {"goal_id": "G2", "outcome": "achieved"})
    s.measure("T1", service="skole")
    return s


@pytest.mark.parametrize("tenant", TENANTS)
def test_ip_transfer_adopts_shared_items_and_archives_summary(tenant: str) -> None:
    """ip.granted with coverage: TRANSFER_PLAN adopting active items, then the summary."""
    s = _plan_with_content(tenant)
    granted = s.ip("skole")
    after = s.goal("G3")
    result = run(s.events, tenant)
    (transfer,) = ops_of(result, OpKind.TRANSFER_PLAN)
    assert (transfer.link, tail(transfer)) == ("plan:ip", "plan:ip")
    assert transfer.payload["plan_link"] == "plan:stafettlogg"
    prefix = f"stafett:{tenant}:{s.case_id}"
    assert transfer.payload["external_reference"] == f"{prefix}:plan:ip"
    assert transfer.payload["adopt"] == {
        "ip/consent:C1": f"{prefix}:consent:C1",
        "ip/participant:P1": f"{prefix}:participant:P1",
        "ip/goal:G1": f"{prefix}:goal:G1",
        "ip/measure:T1": f"{prefix}:measure:T1",
    }
    summary = [
        op for op in ops_of(result, OpKind.CREATE_DOCUMENT) if op.link == "summary:stafettlogg"
    ]
    assert len(summary) == 1
    assert summary[0].waits_for == transfer.op_ref
    assert summary[0].cause_sequence == granted.sequence
    assert summary[0].payload["render"] == "closing-summary"
    assert summary[0].payload["category"] == "113"
    assert summary[0].payload["source"]["filename"] == "sluttrapport-stafettlogg.pdf"
    (goal,) = [
        op for op in ops_of(result, OpKind.CREATE_GOAL) if op.cause_sequence == after.sequence
    ]
    assert goal.link == "ip/goal:G3"
    assert goal.payload["plan_link"] == "plan:ip"


@pytest.mark.parametrize("tenant", TENANTS)
def test_updates_after_transfer_go_to_the_ip(tenant: str) -> None:
    """An adopted goal's update after the transfer targets its ip/ link on the IP."""
    s = _plan_with_content(tenant)
    s.ip("skole")
    s.add("goal.updated", {"goal_id": "G1", "title": "Nytt"})
    (update,) = ops_of(run(s.events, tenant), OpKind.UPDATE_GOAL)[-1:]
    assert update.payload["goal_link"] == "ip/goal:G1"
    assert update.payload["plan_link"] == "plan:ip"


@pytest.mark.parametrize("tenant", TENANTS)
def test_held_transfer_holds_later_events_but_not_consents(tenant: str) -> None:
    """Uncovered coordinator: later events wait, consents apply, a covering one releases all."""
    s = _plan_with_content(tenant)
    granted = s.ip("psykisk-helse")
    goal = s.goal("G3")
    other = s.consent("C2", ["ppt"])
    first = run(s.events, tenant)
    decided = decisions_by_seq(first)
    assert decided[granted.sequence] == ("held", "no active consent covers service 'psykisk-helse'")
    assert decided[goal.sequence] == (
        "held",
        f"waiting for the IP transfer (sequence {granted.sequence})",
    )
    assert decided[other.sequence] == ("applied", None)
    assert ops_of(first, OpKind.TRANSFER_PLAN) == []
    assert [op.payload["plan_link"] for op in ops_of(first, OpKind.ADD_CONSENT)][-1] == (
        "plan:stafettlogg"
    )
    s.consent("C3", ["psykisk-helse"])
    second = run(s.events[-1:], tenant, state=first.state)
    assert [(op.kind, op.link) for op in second.operations if op.target is Target.SAMSPILL] == [
        (OpKind.ADD_CONSENT, "consent:C3"),
        (OpKind.TRANSFER_PLAN, "plan:ip"),
        (OpKind.CREATE_GOAL, "ip/goal:G3"),
    ]
    assert second.state.held == ()


@pytest.mark.parametrize("tenant", TENANTS)
def test_ip_before_plan_is_held(tenant: str) -> None:
    """ip.granted before a stafettlogg exists is held with a clear reason."""
    s = Stream(tenant)
    s.open()
    granted = s.ip("skole")
    assert decisions_by_seq(run(s.events, tenant))[granted.sequence] == (
        "held",
        "no stafettlogg to transfer yet",
    )


@pytest.mark.parametrize("tenant", TENANTS)
def test_case_closed_closes_plan_and_archive_case_after_last_document(tenant: str) -> None:
    """case.closed: CLOSE_PLAN (no-further-follow-up → other) and CLOSE_CASE after the minutes."""
    s = with_plan(tenant)
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.held("M1")
    closed = s.add("case.closed", {"reason": "no-further-follow-up"})
    result = run(s.events, tenant)
    caused = [op for op in result.operations if op.cause_sequence == closed.sequence]
    assert next((op.kind, op.payload) for op in caused) == (
        OpKind.CLOSE_PLAN,
        {"plan_link": "plan:stafettlogg", "reason": "other"},
    )
    assert caused[1].kind is OpKind.CLOSE_CASE
    assert caused[1].waits_for == ops_of(result, OpKind.CREATE_DOCUMENT)[-1].op_ref


def test_close_without_archive_case_sends_no_close_case() -> None:
    """Without any archived document there is no archive case to close."""
    s = with_plan("modum")
    s.add("case.closed", {"reason": "goals-achieved"})
    result = run(s.events)
    assert [op.kind for op in result.operations][-1] is OpKind.CLOSE_PLAN
    assert ops_of(result, OpKind.CLOSE_CASE) == []


@pytest.mark.parametrize("tenant", TENANTS)
def test_archive_before_the_plan_exists(tenant: str) -> None:
    """A level-0 meeting.held syncs the child, ensures the screened case, archives minutes."""
    s = Stream(tenant)
    s.open()
    s.meeting("M1", "2026-03-05T10:00:00+01:00", kind="undringssamtale")
    held = s.held("M1")
    result = run(s.events, tenant)
    assert [op.target for op in result.operations] == [Target.P360] * 3
    person, case, document = result.operations
    assert person.kind is OpKind.SYNC_PERSON
    assert person.payload == {"nin": CHILD_NIN, "first_name": "Ola Nordmann", "last_name": "Test"}
    assert case.kind is OpKind.ENSURE_CASE
    assert case.payload["title"] == "Tverrfaglig samarbeid – BTI"
    assert case.payload["unofficial_title"] == "Tverrfaglig samarbeid – BTI – Ola Nordmann Test"
    assert case.payload["external_id"] == f"{tenant}:{s.case_id}"
    assert case.payload["external_system"] == "BTI"
    assert case.waits_for is None
    assert (document.kind, document.link) == (OpKind.CREATE_DOCUMENT, "minutes:M1")
    assert document.payload["title"] == "Referat – Undringssamtale"
    assert document.payload["category"] == "112"
    assert document.payload["document_date"] == held.occurred_at.isoformat()
    assert document.payload["source"]["filename"] == "referat.pdf"


@pytest.mark.parametrize("tenant", TENANTS)
def test_minutes_with_plan_get_a_log_line_waiting_for_the_document(tenant: str) -> None:
    """With a plan, the minutes' log line waits for the archive document; sync happens once."""
    s = with_plan(tenant)
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.meeting("M2", "2026-06-02T10:00:00+02:00")
    s.held("M1")
    s.held("M2")
    result = run(s.events, tenant)
    assert len(ops_of(result, OpKind.SYNC_PERSON)) == 1
    assert len(ops_of(result, OpKind.ENSURE_CASE)) == 1
    documents = ops_of(result, OpKind.CREATE_DOCUMENT)
    logs = ops_of(result, OpKind.APPEND_LOG)
    assert [log.waits_for for log in logs] == [d.op_ref for d in documents]
    assert {log.payload["text"] for log in logs} == {"Referat fra møtet er arkivert"}


def test_archive_disabled_sends_nothing_to_the_archive() -> None:
    """With archive_enabled false, meeting.held only updates the calendar."""
    s = with_plan("modum")
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.held("M1")
    result = run(s.events, archive_enabled=False)
    assert [op for op in result.operations if op.target is Target.P360] == []
    assert ops_of(result, OpKind.UPDATE_CALENDAR)[-1].payload["status"] == "held"


def test_no_name_or_nin_in_public_titles() -> None:
    """Public archive titles never carry the child's name or nin."""
    s = _plan_with_content("vardo")
    s.meeting("M1", "2026-06-01T10:00:00+02:00")
    s.held("M1")
    s.ip("skole")
    result = run(s.events, "vardo")
    titles = [
        op.payload["title"]
        for op in result.operations
        if op.target is Target.P360 and "title" in op.payload
    ]
    assert titles
    assert all("Ola" not in t and CHILD_NIN not in t for t in titles)


@pytest.mark.parametrize("tenant", TENANTS)
def test_guardians_follow_the_transfer_to_the_ip(tenant: str) -> None:
    """The transfer links the IP's copied guardians (ip/ keys); later meetings name those."""
    s = _plan_with_content(tenant)
    s.ip("skole")
    s.meeting("M9", "2027-01-05T10:00:00+01:00", participants=("stafettholder", "G-mor"))
    result = run(s.events, tenant)
    (transfer,) = ops_of(result, OpKind.TRANSFER_PLAN)
    family = transfer.payload["family"]
    first = family[0]
    assert (first["link"], first["nin"], first["role"]) == (
        "ip/guardian:G-mor",
        MOTHER_NIN,
        "foresatt",
    )
    assert len(family) == 2
    assert all(m["link"].startswith("ip/guardian:") for m in family)
    (calendar,) = [
        op for op in ops_of(result, OpKind.CREATE_CALENDAR) if op.link == "ip/meeting:M9"
    ]
    assert calendar.payload["participant_links"] == ["lead", "ip/guardian:G-mor"]
