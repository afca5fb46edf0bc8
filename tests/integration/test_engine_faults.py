"""Faults through the whole engine (feed → planner → dispatcher → clients) against the mock.

Fault rules go to the mock's `/_mock/faults`; the engine and the mock share one fake
clock, so backoffs and `Retry-After` waits pass without real sleeping. Each run feeds
both example cases and ends with the same remote content as an undisturbed run (or, for
a permanent refusal, with only the refused case parked).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapter.cli import app as cli_app
from adapter.jobs.once import RunOnceReport
from tests.support.engine import (
    DEMO_CONFIG,
    Engine,
    SharedClock,
    demo_settings,
    example_events,
    items_by_ref,
    mock_for,
    open_engine,
    plan_of,
)
from tests.support.remote_state import duplicates, normalize

M = "stafett:modum:BTI-2026-0042"
V = "stafett:vardo:BS-2026-0007"
_CLEAN: dict[str, Any] = {}
"""The normalized remote state of an undisturbed run, made once per module."""


async def _run(db: Path, *rules: dict[str, Any]) -> tuple[dict[str, Any], Engine, RunOnceReport]:
    """Both example cases through a fresh engine with `rules` installed first."""
    clock = SharedClock()
    async with open_engine(demo_settings(db), app=mock_for(clock), clock=clock) as engine:
        if rules:
            await engine.fault(*rules)
        await engine.seed(example_events("modum", "vardo"))
        report = await engine.drain()
        return await engine.state(), engine, report


async def _clean(tmp_path: Path) -> dict[str, Any]:
    if not _CLEAN:
        state, _, report = await _run(tmp_path / "clean.db")
        assert (report.operations_pending, report.parked_cases) == (0, 0)
        _CLEAN.update(normalize(state))
    return _CLEAN


def _posts(state: dict[str, Any], suffix: str, reference: str) -> list[dict[str, Any]]:
    """The mock's log of POSTs to `…{suffix}` whose body names `reference`."""
    return [
        r
        for r in state["requests"]
        if r["method"] == "POST"
        and r["path"].endswith(suffix)
        and isinstance(r["body"], dict)
        and r["body"].get("externalReference") == reference
    ]


async def test_two_503s_then_success_make_one_item(tmp_path: Path) -> None:
    """Two 503s on the first goal create: retried, one goal, the same state as a clean run."""
    rule = {"match": {"method": "POST", "path": "/goals$"}, "action": {"status": 503}, "times": 2}
    state, engine, report = await _run(tmp_path / "f.db", rule)
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    refused = [s for s in engine.sent if s.path.endswith("/goals") and s.status == 503]
    assert len(refused) == 2
    assert duplicates(state) == []
    assert normalize(state) == await _clean(tmp_path)


@pytest.mark.parametrize(
    ("path", "suffix"),
    [
        ("/samspill/api/v1/plans$", "/plans"),
        ("/measures$", "/measures"),
        ("/transfer$", "/transfer"),
    ],
)
async def test_commit_then_fail_is_adopted_by_lookup(
    tmp_path: Path, path: str, suffix: str
) -> None:
    """A create stored remotely but answered 502 is found by reference, never made twice."""
    rule = {
        "match": {"method": "POST", "path": path},
        "action": {"commit_then_fail": 502},
        "times": 1,
    }
    state, _, report = await _run(tmp_path / "f.db", rule)
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    (failed,) = [
        r
        for r in state["requests"]
        if r["method"] == "POST" and r["path"].endswith(suffix) and r["status"] == 502
    ]
    reference = failed["body"]["externalReference"]
    assert [r["status"] for r in _posts(state, suffix, reference)] == [502], (
        "the create was sent again instead of being looked up"
    )
    assert duplicates(state) == []
    assert normalize(state) == await _clean(tmp_path)


async def test_retry_after_is_honoured_on_the_fake_clock(tmp_path: Path) -> None:
    """A 429 with Retry-After 120: that plan gets no request until 120 s later (fake time)."""
    rule = {
        "match": {"method": "POST", "path": "/goals$"},
        "action": {"status": 429, "retry_after": 120},
        "times": 1,
    }
    state, engine, report = await _run(tmp_path / "f.db", rule)
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    (limited,) = [s for s in engine.sent if s.status == 429]
    plan_path = limited.path.rsplit("/", 1)[0]
    after = engine.sent[engine.sent.index(limited) + 1 :]
    later = [s for s in after if s.path.startswith(plan_path)]
    assert later, "the refused goal was never sent again"
    # no request to that plan before the Retry-After has passed
    assert later[0].at - limited.at >= timedelta(seconds=120)
    assert max(engine.clock.slept) >= 119  # the run waited on the fake clock, not for real
    assert normalize(state) == await _clean(tmp_path)


async def test_expired_token_is_renewed_exactly_once(tmp_path: Path) -> None:
    """expire_token on one request: one 401, one extra token, the call repeated once."""
    rule = {"match": {"path": "/goals$"}, "action": {"expire_token": True}, "times": 1}
    state, engine, report = await _run(tmp_path / "f.db", rule)
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    tokens = [s for s in engine.sent if s.path == "/connect/token"]
    assert len(tokens) == 3  # one per tenant, plus the one renewal
    assert [s.status for s in engine.sent].count(401) == 1
    assert normalize(state) == await _clean(tmp_path)


def test_a_422_parks_only_that_case_and_the_others_finish(tmp_path: Path) -> None:
    """A 422 on Modum's lead change parks Modum's Samspill work; Vardø and the archive finish."""
    db = tmp_path / "f.db"
    rule = {"match": {"method": "PUT", "path": "/lead$"}, "action": {"status": 422}}
    state, _, report = asyncio.run(_run(db, rule))
    assert report.parked_cases == 1

    modum = plan_of(state, f"{M}:plan:stafettlogg")
    assert (modum["status"], modum["planLead"]["name"]) == ("active", "Marte Lien")
    # later Samspill work of the case waits behind the parked one: G2 is never closed
    assert items_by_ref(modum["goals"])[f"{M}:goal:G2"]["status"] == "active"
    ip = plan_of(state, f"{V}:plan:ip")
    assert (ip["status"], ip["closedReason"]) == ("closed", "other")
    cases = {c["ExternalId"]["Id"]: c["Status"] for c in state["p360"]["cases"]}
    assert cases == {"modum:BTI-2026-0042": "A", "vardo:BS-2026-0007": "A"}  # archive flowed on

    env = {"STAFETT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    result = CliRunner().invoke(
        cli_app,
        ["--config", str(DEMO_CONFIG), "parked", "list", "--json"],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (parked,) = json.loads(result.stdout)["operations"]
    assert (parked["tenant"], parked["case_id"], parked["target"], parked["kind"]) == (
        "modum",
        "BTI-2026-0042",
        "samspill",
        "change-lead",
    )
    assert "422" in parked["reason"]


def _plans(state: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    return [p for p in state["samspill"]["plans"] if p.get("externalReference") == reference]


@pytest.mark.parametrize(
    "action",
    [{"status": 503}, {"reset": True}, {"status": 429, "retry_after": 0}],
    ids=["503", "reset", "429"],
)
async def test_a_failed_read_back_after_the_plan_create_never_creates_twice(
    tmp_path: Path, action: dict[str, Any]
) -> None:
    """POST /plans succeeds, the read-back of its guardians fails once: one plan, adopted."""
    rule = {"match": {"method": "GET", "path": "/plans/[^/]+$"}, "action": action, "times": 1}
    state, _, report = await _run(tmp_path / "f.db", rule)
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    reference = f"{M}:plan:stafettlogg"
    assert len(_plans(state, reference)) == 1
    assert len(_posts(state, "/plans", reference)) == 1, "the plan was posted again"
    assert duplicates(state) == []
    assert normalize(state) == await _clean(tmp_path)


async def test_a_failed_read_back_after_the_transfer_never_transfers_twice(
    tmp_path: Path,
) -> None:
    """POST /transfer succeeds, the read-back of the new IP fails once: adopted by lookup."""
    clock = SharedClock()
    events = example_events("modum", "vardo")
    modum = [e for e in events if e["case_id"] != "BS-2026-0007"]
    vardo = [e for e in events if e["case_id"] == "BS-2026-0007"]
    split = next(i for i, e in enumerate(vardo) if e["type"] == "ip.granted")
    async with open_engine(demo_settings(tmp_path / "f.db"), app=mock_for(clock), clock=clock) as e:
        await e.seed(modum + vardo[:split])
        await e.drain()
        rule = {"match": {"method": "GET", "path": "/plans/[^/]+$"}, "action": {"status": 503}}
        await e.fault({**rule, "times": 1})
        await e.seed(vardo[split:])
        report = await e.drain()
        state = await e.state()
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    transfers = [r for r in state["requests"] if r["path"].endswith("/transfer")]
    assert [r["status"] for r in transfers] == [201], "the transfer was sent again"
    refused = [r for r in state["requests"] if r["status"] == 503]
    assert len(refused) == 1
    assert state["requests"].index(refused[0]) > state["requests"].index(transfers[0])
    assert len(_plans(state, f"{V}:plan:ip")) == 1
    assert duplicates(state) == []
    assert normalize(state) == await _clean(tmp_path)


async def test_the_token_is_renewed_before_it_expires_on_the_fake_clock(tmp_path: Path) -> None:
    """An hour into a run (fake time) the client fetches a new token before the old one
    expires: no request is refused with 401."""
    clock = SharedClock()
    events = example_events("modum")
    half = len(events) // 2
    async with open_engine(demo_settings(tmp_path / "t.db"), app=mock_for(clock), clock=clock) as e:
        await e.seed(events[:half])
        await e.drain()
        clock.advance(3590)  # the demo token lives 3600 s; renewal is due 60 s before
        await e.seed(events[half:])
        report = await e.drain()
        sent = e.sent
    assert (report.operations_pending, report.parked_cases) == (0, 0)
    assert [s.status for s in sent].count(401) == 0
    assert len([s for s in sent if s.path == "/connect/token"]) == 2
