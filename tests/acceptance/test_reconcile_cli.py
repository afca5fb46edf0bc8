"""`stafett reconcile`, `resync --case` and the parked workflow, against `stafett mock`."""

from __future__ import annotations

import getpass
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from adapter.cli.demo import load_examples
from tests.support.mock_process import ROOT, mock_process, stafett, stafett_json, state, writes

CASE = "modum/BTI-2026-0042"
OPEN_UNTIL = 50
"""The Modum stream up to here leaves its stafettlogg open (it closes at sequence 57)."""


def _open_case_events() -> list[dict[str, Any]]:
    return [
        e
        for e in load_examples(ROOT / "examples/events")
        if e["tenant"] == "modum" and e["sequence"] <= OPEN_UNTIL
    ]


def _item(plan: dict[str, Any], collection: str, suffix: str) -> dict[str, Any]:
    return next(i for i in plan[collection] if i["externalReference"].endswith(suffix))


def test_drift_is_reported_by_reconcile_and_repaired_by_resync_case(tmp_path: Path) -> None:
    """A deleted goal and a changed measure: reconcile reports both, resync --case repairs."""
    db = tmp_path / "stafett.db"
    with mock_process() as url:
        httpx.post(f"{url}/_mock/internal/events", json=_open_case_events())
        assert stafett_json(url, db, "run", "--once")["parked_cases"] == 0
        clean = stafett_json(url, db, "reconcile")
        assert clean == {"cases": 1, "drift": []}
        plan = state(url)["samspill"]["plans"][0]
        assert plan["status"] == "active"
        goal, measure = _item(plan, "goals", ":goal:G2"), _item(plan, "measures", ":measure:T1")
        base = f"{url}/_mock/samspill/plans/{plan['planId']}"
        httpx.delete(f"{base}/goals/{goal['id']}").raise_for_status()
        httpx.patch(f"{base}/measures/{measure['id']}", json={"title": "Endret"}).raise_for_status()

        sent = writes(url)
        drift = stafett_json(url, db, "reconcile")
        assert writes(url) == sent
        problems = {(d["kind"], d["item"], d["problem"]) for d in drift["drift"]}
        assert {
            ("goal", "goal:G2", "missing remotely"),
            ("measure", "measure:T1", "different: title"),
        } <= problems
        # a measure of the deleted goal names it: that is drift too, and nothing else is
        assert problems <= {
            ("goal", "goal:G2", "missing remotely"),
            ("measure", "measure:T1", "different: title"),
            ("measure", "measure:T2", "different: goalId"),
        }

        fixed = stafett_json(url, db, "resync", "--case", CASE, "--reason", "drift seen")
        assert fixed["created"] == 1 and fixed["updated"] >= 1
        plan_after = state(url)["samspill"]["plans"][0]
        assert _item(plan_after, "goals", ":goal:G2")["title"] == goal["title"]
        assert _item(plan_after, "measures", ":measure:T1")["title"] == measure["title"]
        assert stafett_json(url, db, "reconcile") == {"cases": 1, "drift": []}


def test_a_parked_case_is_listed_retried_and_skipped_with_an_audit_trail(tmp_path: Path) -> None:
    """A SIF validation error parks both cases' person sync; a retry needs a reason; after
    the fix the retried case and the skipped one both finish; both actions are audited."""
    db = tmp_path / "stafett.db"
    fault = {
        "match": {"method": "POST", "path": "ContactService/SynchronizePrivatePerson"},
        "action": {"p360_error": "Validation: Fødselsnummer er ugyldig"},
        "times": None,
    }
    with mock_process() as url:
        httpx.post(f"{url}/_mock/internal/events", json=load_examples(ROOT / "examples/events"))
        httpx.post(f"{url}/_mock/faults", json=[fault]).raise_for_status()
        run = stafett_json(url, db, "run", "--once", "--max-wait", "0")
        assert run["parked_cases"] == 2
        parked = stafett_json(url, db, "parked", "list")["operations"]
        assert {(p["tenant"], p["kind"]) for p in parked} == {
            ("modum", "sync-person"),
            ("vardo", "sync-person"),
        }
        assert all("Validation: Fødselsnummer er ugyldig" in p["reason"] for p in parked)

        httpx.delete(f"{url}/_mock/faults").raise_for_status()
        unexplained = stafett(url, db, "parked", "retry", CASE)
        assert unexplained.returncode == 2 and "--reason is required" in unexplained.stderr
        retried = stafett_json(url, db, "parked", "retry", CASE, "--reason", "title fixed")
        assert retried["retried"] == 1
        vardo = next(p for p in parked if p["tenant"] == "vardo")
        skipped = stafett(url, db, "parked", "skip", str(vardo["op_id"]), "--reason", "handled")
        assert skipped.returncode == 0, skipped.stderr
        finished = stafett_json(url, db, "run", "--once", "--max-wait", "0")
        assert (finished["operations_pending"], finished["parked_cases"]) == (0, 0), finished
        assert stafett_json(url, db, "parked", "list")["operations"] == []
        archive = state(url)["p360"]
        assert sorted(c["ExternalId"]["Id"] for c in archive["cases"]) == [
            "modum:BTI-2026-0042",
            "vardo:BS-2026-0007",
        ]
        assert len(archive["persons"]) == 1  # the skipped sync was not sent again

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT action, actor, reason, subject, case_id FROM audit").fetchall()
    me = getpass.getuser()
    assert [r for r in rows if r[0] == "operation.skip"] == [
        ("operation.skip", me, "handled", vardo_ref(parked), "BS-2026-0007")
    ]
    assert [r for r in rows if r[0] == "parked.retry"] == [
        ("parked.retry", me, "title fixed", None, "BTI-2026-0042")
    ]


def test_reconcile_exits_1_when_a_remote_cannot_be_read(tmp_path: Path) -> None:
    """Samspill answers 503 to every read: reconcile says so on stderr and exits 1."""
    db = tmp_path / "stafett.db"
    fault = {"match": {"method": "GET", "path": "/samspill/"}, "action": {"status": 503}}
    with mock_process() as url:
        httpx.post(f"{url}/_mock/internal/events", json=_open_case_events())
        assert stafett_json(url, db, "run", "--once")["parked_cases"] == 0
        httpx.post(f"{url}/_mock/faults", json=[{**fault, "times": None}]).raise_for_status()
        failed = stafett(url, db, "reconcile", "--json")
    assert failed.returncode == 1, failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert last == "error: 1 cases could not be read remotely (see the report)"
    report = json.loads(failed.stdout)
    assert report["cases"] == 1
    assert [d["problem"] for d in report["drift"]] == ["remote unreadable (TransientError)"]


def vardo_ref(parked: list[dict[str, Any]]) -> str:
    """The op_ref of Vardø's parked person sync (the audit's subject)."""
    assert any(p["tenant"] == "vardo" for p in parked)
    return "stafett:vardo:BS-2026-0007:archive-person:child"
