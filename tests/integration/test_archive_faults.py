"""The archive under faults, through the engine: ambiguous creates, an outage of the SIF
service on a fake clock, and business errors (`Successful: false`) of both classes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapter.planning.rules.archive import MINUTES_LOG_TEXT
from adapter.store import Store
from adapter.store.states import OperationState, Target
from adapter.targets.p360 import SIF_PATH
from tests.integration.conftest import FakeClock
from tests.integration.test_archive_support import (
    CASES,
    engine,
    examples,
    held_meetings,
    sif_requests,
)

MODUM = "stafett:modum:BTI-2026-0042"
OUTAGE = timedelta(minutes=5)


def _remarks(state: dict[str, Any]) -> list[str]:
    return [r["Content"] for d in state["p360"]["documents"] for r in d["Remarks"]]


def _case_key(request: dict[str, Any]) -> str | None:
    """Which archive case a SIF request is about: its ExternalId or CaseNumber."""
    parameter = (request["body"] or {}).get("parameter") or {}
    external = parameter.get("ExternalId")
    if isinstance(external, dict):
        return str(external.get("Id"))
    number = parameter.get("CaseNumber")
    return None if number is None else str(number)


def _made(request: dict[str, Any]) -> str:
    """What a create request makes: the case's ExternalId, or the document's stafett-ref."""
    parameter = request["body"]["parameter"]
    if "ExternalId" in parameter:
        return str(parameter["ExternalId"]["Id"])
    return str(parameter["Remarks"][0]["Content"])


def _expected_documents(events: list[dict[str, Any]]) -> set[str]:
    """Every minutes op_ref of `events`, plus vardo's closing summary when vardo is in."""
    refs = {
        f"stafett:{e['tenant']}:{e['case_id']}:minutes:{e['data']['meeting_id']}"
        for e in held_meetings(events)
    }
    if any(e["tenant"] == "vardo" for e in events):
        refs.add("stafett:vardo:BS-2026-0007:summary:stafettlogg")
    return refs


@pytest.mark.parametrize(
    ("call", "kind"),
    [("CaseService/CreateCase", "cases"), ("DocumentService/CreateDocument", "documents")],
)
async def test_commit_then_fail_creates_exactly_one(
    store: Store, clock: FakeClock, call: str, kind: str
) -> None:
    """A create that took effect but answered 503 is looked up and adopted: exactly one case
    per BTI case and one document per minutes end up in the archive."""
    events = examples()
    async with engine(store, clock) as e:
        rule = {"match": {"method": "POST", "path": call}, "action": {"commit_then_fail": 503}}
        await e.fault({**rule, "times": 1})
        await e.feed(events)
        report = await e.run()
        state = await e.state()
        faults = (await e.admin.get("/_mock/faults")).json()["rules"]
    assert faults[0]["hits"] == 1
    assert report.operations_pending == 0
    assert report.parked_cases == 0
    p360 = state["p360"]
    external_ids = Counter(c["ExternalId"]["Id"] for c in p360["cases"])
    assert external_ids == Counter({f"{t}:{c}": 1 for t, c in CASES.items()})
    remarks = Counter(_remarks(state))
    assert set(remarks) == _expected_documents(events)
    assert set(remarks.values()) == {1}
    assert len(p360[kind]) == (2 if kind == "cases" else len(remarks))
    # the ambiguous answer was followed by a lookup before anything was created again
    requests = sif_requests(state)
    failed = next(i for i, r in enumerate(requests) if r["status"] == 503)
    key = _case_key(requests[failed])
    after = [r for r in requests[failed + 1 :] if _case_key(r) == key]
    lookup = "CaseService/GetCases" if kind == "cases" else "DocumentService/GetDocuments"
    assert after[0]["path"].endswith(lookup)
    again = [r for r in after if r["path"].endswith(call) and _made(r) == _made(requests[failed])]
    assert again == []  # adopted, never created again


async def test_sif_outage_loses_nothing_and_holds_no_samspill_work(
    store: Store, clock: FakeClock
) -> None:
    """503 from SIF for five minutes of fake time: meanwhile the Samspill work (plans and
    items) is done while every archive operation waits; afterwards all is archived once."""
    events = examples()
    async with engine(store, clock) as e:
        await e.fault({"match": {"path": SIF_PATH}, "action": {"status": 503}})
        end = clock.now + OUTAGE
        await e.feed(events)
        await e.run(max_wait_s=0)  # poll, plan, and dispatch what can go now
        during = await e.state()
        ops = [op for t in CASES for op in await e.operations(t)]
        while clock.now < end:  # the outage goes on: the engine keeps retrying
            await e.turn()
            clock.advance(10)
        retried = [op for t in CASES for op in await e.operations(t)]
        await e.clear_faults()
        report = await e.run()
        after = await e.state()

    # during the outage: every stafettlogg item is in Samspill; only the "minutes archived"
    # lines wait for the archive, and the plans' close or transfer waits for those lines
    assert during["p360"] == {"cases": [], "documents": [], "persons": []}
    final = {p["planId"]: p for p in after["samspill"]["plans"]}
    assert len(during["samspill"]["plans"]) == 2  # the stafettlogger of modum and vardo
    for plan in during["samspill"]["plans"]:
        for items in ("participants", "consents", "goals", "measures", "responsibilities"):
            assert plan[items] == final[plan["planId"]][items], items
    ends: dict[str, int] = {}
    for op in ops:
        if op.kind in {"close-plan", "transfer-plan"}:
            ends[op.case_id] = min(op.seq, ends.get(op.case_id, op.seq))
    for op in ops:
        if op.target is Target.P360:
            assert op.state in {OperationState.PENDING, OperationState.UNKNOWN}, op.op_ref
        elif ":log:minutes-" in op.op_ref or op.seq >= ends[op.case_id]:
            assert op.state is OperationState.PENDING, op.op_ref
        else:
            assert op.state is OperationState.DONE, op.op_ref
    first_archive_ops = [op for op in retried if op.kind == "sync-person"]
    assert len(first_archive_ops) == 2
    assert all(op.attempts >= 3 for op in first_archive_ops)  # retried through the outage
    assert not [op for op in retried if op.state is OperationState.PARKED]
    assert sum(r["status"] == 503 for r in sif_requests(after)) >= 6

    # after it: everything archived exactly once, the log lines follow
    assert report.operations_pending == 0
    assert report.parked_cases == 0
    remarks = Counter(_remarks(after))
    assert set(remarks) == _expected_documents(events)
    assert set(remarks.values()) == {1}
    assert len(after["p360"]["cases"]) == 2
    lines = [x for p in after["samspill"]["plans"] for x in p["log"]]
    assert sum(x["text"] == MINUTES_LOG_TEXT for x in lines) == 3


async def test_validation_error_parks_with_the_message_kept_from_logs(
    store: Store, clock: FakeClock
) -> None:
    """`Successful: false` with a `Validation:` message parks the document; the full text
    is stored for the operator, the logs carry only its class and hash."""
    message = "Validation: Kontakten Emma Solberg Haugen mangler adresse"
    events = examples("modum")
    async with engine(store, clock) as e:
        rule = {"method": "POST", "path": "DocumentService/CreateDocument"}
        await e.fault({"match": rule, "action": {"p360_error": message}, "times": 1})
        await e.feed(events)
        with capture_logs() as logs:
            report = await e.run()
        parked = await e.rt.store.outbox.list_parked()
        ops = {op.op_ref: op for op in await e.operations("modum")}
        state = await e.state()
    assert [p.op_ref for p in parked] == [f"{MODUM}:minutes:M1"]
    assert message in (parked[0].reason or "")
    assert report.parked_cases == 1
    assert ops[f"{MODUM}:minutes:M1"].attempts == 1  # parked at once, never retried
    assert "Emma" not in repr(logs)
    assert "Validation" in repr(logs)  # the class is logged
    later = [op for op in ops.values() if op.target is Target.P360 and op.seq > parked[0].op_id]
    assert later and {op.state for op in later} == {OperationState.PENDING}
    assert state["p360"]["documents"] == []
    samspill = [op for op in ops.values() if op.target is Target.SAMSPILL]
    waiting = {op.op_ref for op in samspill if op.state is not OperationState.DONE}
    assert waiting == {
        f"{MODUM}:log:minutes-M5",
        f"{MODUM}:log:minutes-M6",
        f"{MODUM}:plan:stafettlogg#57",
    }


async def test_error_class_is_retried_until_it_passes(store: Store, clock: FakeClock) -> None:
    """`Successful: false` with an `Error:` message is transient: retried (in the call and
    by a persisted backoff) until it passes, and the document is created once."""
    events = examples("modum")
    async with engine(store, clock) as e:
        attempts = e.rt.settings.dispatch.in_call_attempts
        rule = {"method": "POST", "path": "DocumentService/CreateDocument"}
        action = {"p360_error": "Error: Database timeout, try again later"}
        await e.fault({"match": rule, "action": action, "times": attempts})
        await e.feed(events)
        report = await e.run()
        state = await e.state()
        first = await e.op(f"{MODUM}:minutes:M1")
    assert report.operations_pending == 0
    assert report.parked_cases == 0
    assert first.state is OperationState.DONE
    assert first.attempts == 2  # the in-call retries failed, the persisted retry passed
    creates = sif_requests(state, "CreateDocument")
    assert [r["status"] for r in creates[: attempts + 1]] == [200] * (attempts + 1)
    remarks = Counter(_remarks(state))
    assert set(remarks) == _expected_documents(events)
    assert set(remarks.values()) == {1}
