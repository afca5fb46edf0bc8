"""The demo streams through the whole engine: what Public 360 received, screened (rule 6).

The engine (runtime, feed door, planner, dispatcher, P360 and Samspill clients) runs on a
real store — SQLite and PostgreSQL — against the mock in-process, on a fake clock.
"""

from __future__ import annotations

import json
import re
from typing import Any

from adapter.nin import NIN_PATTERN
from adapter.planning.operations import OpKind
from adapter.planning.rules.archive import CASE_TITLE, MINUTES_LOG_TEXT
from adapter.settings.tenant import ArchiveConfig
from adapter.store import Store
from adapter.store.states import OperationState, Target
from adapter.targets.p360 import REMARK_TITLE
from tests.integration.conftest import FakeClock
from tests.integration.test_archive_support import (
    CASES,
    PDFA,
    PLAIN,
    demo_settings,
    engine,
    examples,
    held_meetings,
    names_and_nins,
    samspill_requests,
    sha,
    sif_requests,
)

DEFAULT = ArchiveConfig(backend="none")  # the defaults the demo tenants keep
ENTERPRISE = {"modum": "864965962", "vardo": "944588132"}


def _minutes_sha(events: list[dict[str, Any]]) -> dict[str, str]:
    """op_ref of each minutes document → the sha256 of the PDF its event carried."""
    return {
        f"stafett:{e['tenant']}:{e['case_id']}:minutes:{e['data']['meeting_id']}": e["data"][
            "minutes"
        ]["sha256"]
        for e in held_meetings(events)
    }


def _tenant_of(document: dict[str, Any], p360: dict[str, Any]) -> str:
    """The tenant whose archive case holds `document`."""
    (case,) = [c for c in p360["cases"] if c["CaseNumber"] == document["CaseNumber"]]
    return str(case["ExternalId"]["Id"]).split(":", 1)[0]


def _remark(document: dict[str, Any]) -> str:
    remarks = [r for r in document["Remarks"] if r["Title"] == REMARK_TITLE]
    assert len(remarks) == 1
    content: str = remarks[0]["Content"]
    return content


def _screened_title(title: str, people: set[str]) -> None:
    assert NIN_PATTERN.search(title) is None, title
    assert not [p for p in people if re.search(rf"\b{re.escape(p)}\b", title)], title


async def test_examples_archive_screened_cases_and_documents(
    store: Store, clock: FakeClock
) -> None:
    """Every case and minutes document the examples archive is screened as rule 6 says."""
    events = examples()
    people = names_and_nins(events)
    async with engine(store, clock) as e:
        await e.feed(events)
        report = await e.run()
        state = await e.state()
        ops = {t: await e.operations(t) for t in CASES}
    assert report.operations_pending == 0
    assert report.parked_cases == 0
    p360 = state["p360"]

    children = {ev["tenant"]: ev["data"]["child"] for ev in events if ev["type"] == "case.opened"}
    assert len(p360["cases"]) == 2
    for case in p360["cases"]:
        tenant, case_id = case["ExternalId"]["Id"].split(":")
        child = children[tenant]
        assert case["ExternalId"] == {"Id": f"{tenant}:{CASES[tenant]}", "Type": "BTI"}
        assert case_id == CASES[tenant]
        assert case["Title"] == CASE_TITLE
        _screened_title(case["Title"], people)
        assert child["name"] in case["UnofficialTitle"]
        assert (case["AccessCode"], case["Paragraph"]) == (DEFAULT.access_code, DEFAULT.paragraph)
        assert case["ArchiveCodes"] == [
            {"ArchiveCode": child["nin"], "ArchiveType": "FNR", "Sort": 1, "IsManualText": True}
        ]
        assert case["Contacts"] == [
            {"Role": "9", "ReferenceNumber": child["nin"], "IsUnofficial": True}
        ]
        assert case["ResponsibleEnterpriseNumber"] == ENTERPRISE[tenant]
        assert case["Status"] == "A"  # closed with the BTI case, after its documents

    # only the children are synchronised, without any address
    assert sorted(p["PersonalIdNumber"] for p in p360["persons"]) == sorted(
        c["nin"] for c in children.values()
    )
    for person in p360["persons"]:
        assert not [k for k in person if "address" in k.lower()]

    minutes_sha = _minutes_sha(events)
    archived: dict[str, dict[str, Any]] = {}
    for document in p360["documents"]:
        _screened_title(document["Title"], people)
        assert (document["AccessCode"], document["Paragraph"]) == (
            DEFAULT.access_code,
            DEFAULT.paragraph,
        )
        assert document["Status"] == "J"
        child_nin = children[_tenant_of(document, p360)]["nin"]
        assert document["Contacts"] == [
            {"Role": "9", "ReferenceNumber": child_nin, "IsUnofficial": True}
        ]
        ref = _remark(document)
        assert ref not in archived  # one document per operation
        archived[ref] = document
        [main] = document["Files"]
        assert main["RelationType"] == "H"
        if ref in minutes_sha:
            assert document["Category"] == DEFAULT.minutes_category
            assert main["sha256"] == minutes_sha[ref]
            assert main["VersionFormat"] == {sha(PDFA): "A", sha(PLAIN): "P"}[main["sha256"]]
    assert set(minutes_sha) <= set(archived)
    assert {d["VersionFormat"] for ref in minutes_sha for d in archived[ref]["Files"]} == {"A", "P"}

    # the remark is the op_ref of the operation that made the document, and its number linked
    made = [op for t in CASES for op in ops[t] if op.kind == OpKind.CREATE_DOCUMENT]
    assert len(made) == len(p360["documents"]) == len(minutes_sha) + 1  # + vardo's summary
    for op in made:
        assert op.state is OperationState.DONE
        assert archived[op.op_ref]["DocumentNumber"] == op.remote_id

    # no SIF request carried a name or nin in a public Title
    for request in sif_requests(state):
        parameter = (request["body"] or {}).get("parameter") or {}
        if "Title" in parameter:
            _screened_title(parameter["Title"], people)


async def test_minutes_of_every_level_are_archived_before_any_plan(
    store: Store, clock: FakeClock
) -> None:
    """Minutes of levels 0 and 1 reach the archive while nothing has gone to Samspill yet."""
    events = examples("modum")
    before_plan = [ev for ev in events if ev["sequence"] <= 20]  # M1 (level 0), M2, M3 (level 1)
    async with engine(store, clock) as e:
        await e.feed(before_plan)
        report = await e.run()
        early = await e.state()
        await e.feed([ev for ev in events if ev["sequence"] > 20])
        await e.run()
        late = await e.state()
        ops = await e.operations("modum")
    assert report.operations_pending == 0
    assert early["samspill"]["plans"] == []
    assert samspill_requests(early) == []
    remarks = sorted(_remark(d) for d in early["p360"]["documents"])
    assert remarks == [f"stafett:modum:BTI-2026-0042:minutes:M{n}" for n in (1, 2, 3)]
    # a log line about archived minutes is planned only where the plan exists (M5, M6)
    minute_logs = [op for op in ops if op.kind == OpKind.APPEND_LOG and "minutes-" in op.op_ref]
    assert sorted(op.op_ref.rsplit(":", 1)[1] for op in minute_logs) == [
        "minutes-M5",
        "minutes-M6",
    ]
    documents = {_remark(d) for d in late["p360"]["documents"]}
    assert {f"stafett:modum:BTI-2026-0042:minutes:M{n}" for n in (1, 2, 3, 5, 6)} == documents


async def test_held_meetings_are_marked_held_and_logged_without_content(
    store: Store, clock: FakeClock
) -> None:
    """With a plan, a held meeting's calendar entry becomes held and one log line, without
    content, says its minutes were archived — after the archive has the document."""
    events = examples()
    async with engine(store, clock) as e:
        await e.feed(events)
        await e.run()
        state = await e.state()
        ops = {op.op_ref: op for t in CASES for op in await e.operations(t)}
    plans = {p["externalReference"]: p for p in state["samspill"]["plans"]}
    calendar = {c["externalReference"]: c for p in plans.values() for c in p["calendar"]}
    logs = [entry for p in plans.values() for entry in p["log"]]
    # meetings held after the plan exists: modum M5, M6 and vardo M2
    with_plan = {("modum", "M5"), ("modum", "M6"), ("vardo", "M2")}
    for tenant, meeting_id in with_plan:
        prefix = f"stafett:{tenant}:{CASES[tenant]}"
        assert calendar[f"{prefix}:meeting:{meeting_id}"]["status"] == "held"
        [line] = [x for x in logs if x["externalReference"] == f"{prefix}:log:minutes-{meeting_id}"]
        assert line["text"] == MINUTES_LOG_TEXT
        log_op = ops[f"{prefix}:log:minutes-{meeting_id}"]
        document_op = ops[f"{prefix}:minutes:{meeting_id}"]
        assert log_op.waits_for == document_op.op_ref
        assert document_op.done_at is not None and log_op.done_at is not None
        assert document_op.done_at <= log_op.done_at
    minute_lines = [x for x in logs if x["text"] == MINUTES_LOG_TEXT]
    assert len(minute_lines) == len(with_plan)  # none for minutes held before a plan
    dumped = json.dumps(state["samspill"])
    for event in held_meetings(events):
        minutes = event["data"]["minutes"]
        assert minutes["content_base64"][:64] not in dumped
        assert minutes["sha256"] not in dumped
        assert minutes["title"] not in dumped


async def test_a_tenant_without_archive_runs_the_examples_without_sif(
    store: Store, clock: FakeClock
) -> None:
    """archive.backend = "none" (env override): modum's case runs with no SIF request, no
    archive operation and no error; vardo still archives."""
    settings = demo_settings(STAFETT_TENANTS__MODUM__ARCHIVE__BACKEND="none")
    events = examples()
    modum_people = names_and_nins([ev for ev in events if ev["tenant"] == "modum"])
    async with engine(store, clock, settings) as e:
        await e.feed(events)
        report = await e.run()
        state = await e.state()
        modum_ops = await e.operations("modum")
        rejected = await e.rt.store.events.count_events_by_state("modum")
    assert report.operations_pending == 0
    assert report.parked_cases == 0
    assert modum_ops
    assert {op.target for op in modum_ops} == {Target.SAMSPILL}
    assert {op.state for op in modum_ops} == {OperationState.DONE}
    assert not [s for s, n in rejected.items() if s.value in {"rejected", "held"} and n]
    p360 = state["p360"]
    assert [c["ExternalId"]["Id"] for c in p360["cases"]] == ["vardo:BS-2026-0007"]
    assert all(_remark(d).startswith("stafett:vardo:") for d in p360["documents"])
    for request in sif_requests(state):
        text = json.dumps(request["body"], ensure_ascii=False)
        assert "modum" not in text
        assert not [p for p in modum_people if NIN_PATTERN.fullmatch(p) and p in text]
    [modum_plan] = [p for p in state["samspill"]["plans"] if "modum" in str(p["externalReference"])]
    assert modum_plan["status"] == "closed"
    assert not [x for x in modum_plan["log"] if x["text"] == MINUTES_LOG_TEXT]
