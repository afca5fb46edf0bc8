"""The example cases end to end through the engine: the remote state they must produce.

Modum (`create_plan_at` 2/2) and Vardø (1/1) go through the feed door, the planner and the
dispatcher into the mock, first up to just before each plan step (nothing may reach
Samspill yet), then to the end. The final `/_mock/state` is asserted item by item against
what contracts/samspill.md and domain.md imply; ids must point within their own plan.
Run once in-process and once over a socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import (
    Engine,
    SharedClock,
    demo_settings,
    example_events,
    items_by_ref,
    mock_for,
    open_engine,
    plan_of,
    up_to,
)

M = "stafett:modum:BTI-2026-0042"
V = "stafett:vardo:BS-2026-0007"
ALL_AREAS = ["mal-og-tiltak", "kalender", "logg", "dokumenter", "meldinger"]
BEFORE_PLAN_STEP = {"BTI-2026-0042": 22, "BS-2026-0007": 8}
"""The last sequence before each case's plan step (both have their consent by then)."""


def _events() -> list[dict[str, Any]]:
    return example_events("modum", "vardo")


def _event(case_id: str, sequence: int) -> dict[str, Any]:
    return next(e for e in _events() if e["case_id"] == case_id and e["sequence"] == sequence)


def _samspill(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for request in state["requests"]:
        if request["path"].startswith("/samspill/") or request["path"] == "/connect/token":
            yield request


async def _run_examples(engine: Engine) -> dict[str, Any]:
    """Stage 1 up to the plan steps (asserting Samspill untouched), then the rest."""
    events = _events()
    first = up_to(events, BEFORE_PLAN_STEP)
    await engine.seed(first)
    report = await engine.drain()
    assert report.events_planned == len(first)
    before = await engine.state()
    assert list(_samspill(before)) == [], "Samspill was called before the plan step"
    assert before["samspill"]["plans"] == []
    assert len(before["p360"]["documents"]) == 4  # minutes of every level go to the archive
    rest = [e for e in events if e not in first]
    await engine.seed(rest)
    report = await engine.drain()
    assert report.events_planned == len(rest)
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    return await engine.state()


def _ids(plan: dict[str, Any], collection: str) -> set[str]:
    return {i["id"] for i in plan[collection]}


def _assert_ids_within(plan: dict[str, Any]) -> None:
    """Every participant or goal id an item names is one of this plan's own."""
    people = _ids(plan, "participants")
    goals = _ids(plan, "goals")
    for entry in plan["calendar"]:
        assert set(entry["participantIds"]) <= people, entry["externalReference"]
    for entry in plan["responsibilities"]:
        assert entry["participantId"] in people, entry["externalReference"]
    for entry in plan["measures"]:
        assert entry["goalId"] is None or entry["goalId"] in goals
        responsible = entry["responsibleParticipantId"]
        assert responsible is None or responsible in people


def _who(plan: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["id"] for p in plan["participants"]}


def _assert_modum(state: dict[str, Any]) -> None:
    plan = plan_of(state, f"{M}:plan:stafettlogg")
    _assert_ids_within(plan)
    assert (plan["planTypeId"], plan["status"], plan["closedReason"]) == (
        "stafettlogg",
        "closed",
        "goals-achieved",
    )
    assert (plan["organizationNumber"], plan["affiliationId"]) == ("864965962", "skole")
    assert plan["mainPerson"] == {"name": "Emma Solberg Haugen", "nin": "14831651238"}
    # the accepted baton change moved the lead; the unaccepted one did not
    assert plan["planLead"] == {"name": "Siri Bakke", "nin": "19868820783"}
    assert plan["transferredToPlanId"] is None

    # participants: the guardians from the create body, the covered services; the
    # familiens-hus participant went with the withdrawn consent C2
    got = {
        (p["name"], p["nin"], p["roleId"], p["affiliationId"], tuple(p["accessAreas"]))
        for p in plan["participants"]
    }
    assert got == {
        ("Ingrid Haugen", "02898411829", "foresatt", None, ()),
        ("Thomas Solberg", "23918624384", "foresatt", None, ()),
        ("Jonas Eriksen", None, "deltaker", "ppt", tuple(ALL_AREAS)),
        ("Siri Bakke", "19868820783", "deltaker", "skolehelsetjeneste", tuple(ALL_AREAS)),
    }
    who = _who(plan)

    consents = items_by_ref(plan["consents"])
    assert set(consents) == {f"{M}:consent:C1", f"{M}:consent:C2"}
    c1, c2 = consents[f"{M}:consent:C1"], consents[f"{M}:consent:C2"]
    assert (c1["status"], c1["affiliationIds"]) == (
        "active",
        ["skole", "skolehelsetjeneste", "ppt"],
    )
    assert (c1["validFrom"], c1["validTo"]) == ("2026-03-16", "2027-03-15")
    assert c1["documentReference"] == "https://bti.modum.kommune.no/documents/samtykke-C1"
    assert [g["relation"] for g in c1["givenBy"]] == ["mor", "far"]
    assert (c2["status"], c2["affiliationIds"], c2["validTo"]) == (
        "withdrawn",
        ["familiens-hus"],
        None,
    )

    goals = items_by_ref(plan["goals"])
    assert set(goals) == {f"{M}:goal:G1", f"{M}:goal:G2"}
    g1, g2 = goals[f"{M}:goal:G1"], goals[f"{M}:goal:G2"]
    assert g1["title"] == "Trives og deltar aktivt i friminuttene"
    assert g1["description"] == "Har to faste lekekamerater og deltar i ballspill."  # updated
    assert (g1["targetDate"], g1["status"], g1["evaluation"]) == ("2026-06-19", "achieved", None)
    assert (g2["status"], g2["evaluation"]) == (
        "achieved",
        "Vanskene er kartlagt og tiltak videre er avklart.",
    )

    measures = items_by_ref(plan["measures"])
    assert set(measures) == {f"{M}:measure:T1", f"{M}:measure:T2"}
    t1, t2 = measures[f"{M}:measure:T1"], measures[f"{M}:measure:T2"]
    assert (t1["goalId"], t1["responsibleAffiliationId"], t1["responsibleParticipantId"]) == (
        g1["id"],
        "skole",
        None,
    )
    assert (t1["startDate"], t1["endDate"], t1["status"]) == ("2026-02-02", "2026-06-19", "ended")
    assert t1["evaluation"] == "Trives i friminuttene; voksenstøtten trappes ned."
    assert (t2["goalId"], t2["responsibleParticipantId"]) == (g2["id"], who["Jonas Eriksen"])
    assert (t2["startDate"], t2["endDate"], t2["status"]) == ("2026-03-23", "2026-05-29", "ended")
    assert t2["evaluation"] == "Kartleggingen er fullført; tilrettelagt leseopplæring anbefales."

    duties = items_by_ref(plan["responsibilities"])
    assert set(duties) == {f"{M}:responsibility:A1", f"{M}:responsibility:A2"}
    a1, a2 = duties[f"{M}:responsibility:A1"], duties[f"{M}:responsibility:A2"]
    assert (a1["participantId"], a1["dueDate"], a1["status"]) == (
        who["Jonas Eriksen"],
        "2026-06-05",
        "done",
    )
    assert (a2["participantId"], a2["dueDate"], a2["status"]) == (
        who["Ingrid Haugen"],
        "2026-04-15",
        "done",
    )

    # M1 (level 0) and M2/M3 (held before the plan existed) are not carried in; M4 was
    # cancelled, M5 and M6 held; the deadline of decision 20 (refer, next_meeting_due
    # 2026-04-10, before 2026-03-05 + 42 days) was still ahead when the plan was created, so
    # it was carried in, and decision 35 cancelled it; the deadline of decision 35
    # (continue, 2026-04-08 + 28 days = next_meeting_due 2026-05-06) was cancelled by the
    # newer (close) decision
    calendar = items_by_ref(plan["calendar"])
    assert set(calendar) == {
        f"{M}:meeting:M4",
        f"{M}:meeting:M5",
        f"{M}:meeting:M6",
        f"{M}:deadline:20",
        f"{M}:deadline:35",
    }
    assert (calendar[f"{M}:deadline:20"]["start"], calendar[f"{M}:deadline:20"]["status"]) == (
        "2026-04-10T12:00:00+02:00",
        "cancelled",
    )
    family_and_services = {
        who["Ingrid Haugen"],
        who["Thomas Solberg"],
        who["Jonas Eriksen"],
        who["Siri Bakke"],
    }
    m4, m5, m6 = (calendar[f"{M}:meeting:{m}"] for m in ("M4", "M5", "M6"))
    assert (m4["kind"], m4["title"], m4["status"]) == (
        "nettverksmote",
        "Nettverksmøte",
        "cancelled",
    )
    assert (m4["start"], m4["end"]) == ("2026-04-01T09:00:00+02:00", "2026-04-01T10:30:00+02:00")
    assert (m5["status"], m5["start"], m5["location"]) == (
        "held",
        "2026-04-08T09:00:00+02:00",
        "Vikersund skole, møterom 1",
    )
    assert (m6["status"], m6["start"], m6["end"]) == (
        "held",
        "2026-06-10T09:00:00+02:00",
        "2026-06-10T10:00:00+02:00",
    )
    for meeting in (m4, m5, m6):  # "stafettholder" is the lead: no participant id
        assert set(meeting["participantIds"]) == family_and_services
    deadline = calendar[f"{M}:deadline:35"]
    assert deadline == {
        **deadline,
        "title": "Frist for neste møte",
        "kind": "frist",
        "start": "2026-05-06T12:00:00+02:00",
        "end": "2026-05-06T12:00:00+02:00",
        "participantIds": [],
        "status": "cancelled",
    }

    log = items_by_ref(plan["log"])
    assert set(log) == {f"{M}:log:minutes-M5", f"{M}:log:N2", f"{M}:log:minutes-M6"}
    assert log[f"{M}:log:N2"]["text"] == _event("BTI-2026-0042", 48)["data"]["text"]
    assert (log[f"{M}:log:N2"]["authorName"], log[f"{M}:log:N2"]["occurredAt"]) == (
        "Siri Bakke",
        "2026-05-29T14:10:00+02:00",
    )
    assert log[f"{M}:log:minutes-M5"]["occurredAt"] == "2026-04-08T11:00:00+02:00"


def _assert_vardo(state: dict[str, Any]) -> None:
    source = plan_of(state, f"{V}:plan:stafettlogg")
    ip = plan_of(state, f"{V}:plan:ip")
    for plan in (source, ip):
        _assert_ids_within(plan)
        assert plan["mainPerson"] == {"name": "Noah Pedersen Isaksen", "nin": "28841764538"}
        assert plan["organizationNumber"] == "944588132"
        people = {(p["name"], p["roleId"], p["affiliationId"]) for p in plan["participants"]}
        assert people == {
            ("Hanne Isaksen", "foresatt", None),
            ("Kristian Berg", "deltaker", "ppt"),
            ("Randi Mikkelsen", "leder", "psykisk-helse"),
        }
        (consent,) = plan["consents"]
        assert (consent["externalReference"], consent["status"]) == (f"{V}:consent:C1", "active")
        assert consent["affiliationIds"] == ["skole", "ppt", "psykisk-helse"]
        assert plan["responsibilities"] == []

    assert (source["planTypeId"], source["status"], source["closedReason"]) == (
        "stafettlogg",
        "closed",
        "transferred-to-ip",
    )
    assert source["planLead"] == {"name": "Eirik Johansen", "nin": "09928337909"}
    assert source["transferredToPlanId"] == ip["planId"]
    (goal,) = source["goals"]
    assert (goal["externalReference"], goal["status"]) == (f"{V}:goal:G1", "active")
    (measure,) = source["measures"]
    assert (measure["externalReference"], measure["goalId"]) == (f"{V}:measure:T1", goal["id"])
    assert measure["responsibleAffiliationId"] == "skole"
    # M1 was a level-0 meeting; the level-0 decision (escalate) set no deadline entry here
    (m2,) = source["calendar"]
    assert (m2["externalReference"], m2["kind"], m2["status"]) == (
        f"{V}:meeting:M2",
        "evalueringsmote",
        "held",
    )
    assert set(m2["participantIds"]) == set(_who(source).values())
    assert [e["externalReference"] for e in source["log"]] == [f"{V}:log:minutes-M2"]

    # the individual plan: the coordinator leads, the copies plus what came after the transfer
    assert (ip["planTypeId"], ip["status"], ip["closedReason"]) == (
        "individuell-plan",
        "closed",
        "other",  # no-further-follow-up maps to other
    )
    assert ip["planLead"] == {"name": "Randi Mikkelsen", "nin": "21879121466"}
    assert ip["transferredFromPlanId"] == source["planId"]
    goals = items_by_ref(ip["goals"])
    assert set(goals) == {f"{V}:goal:G1", f"{V}:goal:G2"}
    g2 = goals[f"{V}:goal:G2"]
    assert (g2["title"], g2["targetDate"], g2["status"]) == (
        "Har en fast voksen å snakke med hver uke",
        "2026-12-18",
        "active",
    )
    (copied,) = ip["measures"]
    assert copied["goalId"] == goals[f"{V}:goal:G1"]["id"]
    (m3,) = ip["calendar"]
    assert (m3["externalReference"], m3["kind"], m3["status"], m3["start"]) == (
        f"{V}:meeting:M3",
        "samarbeidsmote",
        "planned",
        "2026-04-21T10:00:00+02:00",
    )
    # the IP's own participants (also the guardian), not the stafettlogg's
    assert set(m3["participantIds"]) == set(_who(ip).values())
    assert ip["log"] == []


def _assert_archive(state: dict[str, Any]) -> None:
    p360 = state["p360"]
    cases = {c["ExternalId"]["Id"]: c for c in p360["cases"]}
    assert set(cases) == {"modum:BTI-2026-0042", "vardo:BS-2026-0007"}
    for case in cases.values():
        assert (case["AccessCode"], case["Status"]) == ("13", "A")
        assert case["Title"] == "Tverrfaglig samarbeid – BTI"
    docs = {d["Remarks"][0]["Content"]: d for d in p360["documents"]}
    assert len(docs) == len(p360["documents"])
    held = {
        f"stafett:{e['tenant']}:{e['case_id']}:minutes:{e['data']['meeting_id']}": e
        for e in _events()
        if e["type"] == "meeting.held"
    }
    assert set(docs) == {*held, f"{V}:summary:stafettlogg"}
    for reference, event in held.items():
        doc = docs[reference]
        assert (doc["Category"], doc["AccessCode"]) == ("112", "13")
        assert doc["Files"][0]["sha256"] == event["data"]["minutes"]["sha256"]
    summary = docs[f"{V}:summary:stafettlogg"]
    assert (summary["Category"], summary["Title"]) == ("113", "Sluttrapport – stafettlogg")


def _assert_level0_and_consent_never_leak(state: dict[str, Any]) -> None:
    """No level-0 text in any request; no service participant before its consent."""
    level0_note = _event("BTI-2026-0042", 3)["data"]["text"]
    covered: dict[str, set[str]] = {}
    for request in state["requests"]:
        body = request.get("body")
        assert level0_note not in repr(body)
        if not request["path"].startswith("/samspill/") or not isinstance(body, dict):
            continue
        assert body.get("kind") != "undringssamtale"  # both level-0 meetings stay home
        plan_path = request["path"].rsplit("/", 1)[0]
        if request["path"].endswith("/consents") and request["method"] == "POST":
            covered.setdefault(plan_path, set()).update(body["affiliationIds"])
        if request["path"].endswith("/participants") and request["method"] == "POST":
            assert body["affiliationId"] in covered.get(plan_path, set()), body["roleId"]
    deletes = [r for r in _samspill(state) if r["method"] == "DELETE"]
    assert len(deletes) == 1  # the withdrawal removed P-fh1; the later removal was a no-op


def _assert_all(state: dict[str, Any]) -> None:
    assert len(state["samspill"]["plans"]) == 3
    _assert_modum(state)
    _assert_vardo(state)
    _assert_archive(state)
    _assert_level0_and_consent_never_leak(state)


async def test_examples_in_process_give_the_expected_remote_state(tmp_path: Path) -> None:
    """Both example cases, in-process: every event type lands as the contracts imply."""
    clock = SharedClock()
    async with open_engine(
        demo_settings(tmp_path / "e.db"), app=mock_for(clock), clock=clock
    ) as engine:
        _assert_all(await _run_examples(engine))


async def test_examples_over_a_socket_give_the_expected_remote_state(
    tmp_path: Path, mock_server: str
) -> None:
    """Both example cases against the mock on a real socket (STAFETT_MOCK_URL)."""
    settings = demo_settings(tmp_path / "e.db", mock_url=mock_server)
    assert settings.tenants["modum"].samspill.base_url.startswith(mock_server)
    async with open_engine(settings, url=mock_server) as engine:
        _assert_all(await _run_examples(engine))


@pytest.mark.parametrize("tenant", ["modum", "vardo"])
async def test_a_case_alone_gives_the_same_plans(tmp_path: Path, tenant: str) -> None:
    """Each tenant's case run alone produces the same plans (no cross-case leakage)."""
    clock = SharedClock()
    async with open_engine(
        demo_settings(tmp_path / "e.db"), app=mock_for(clock), clock=clock
    ) as engine:
        await engine.seed(example_events(tenant))
        report = await engine.drain()
        assert (report.operations_pending, report.parked_cases) == (0, 0)
        state = await engine.state()
    if tenant == "modum":
        assert len(state["samspill"]["plans"]) == 1
        _assert_modum(state)
    else:
        assert len(state["samspill"]["plans"]) == 2
        _assert_vardo(state)
