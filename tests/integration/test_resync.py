"""Resync and reconcile through the library, on SQLite and PostgreSQL, the mock in-process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.mock import create_app
from adapter.resync import case_keys, reconcile, resync
from adapter.runner.once import run_once
from adapter.runner.runtime import Runtime
from adapter.service import _Ticks
from adapter.store import Store
from tests.integration.conftest import FakeClock
from tests.support.remote_state import duplicates, is_write, normalize
from tests.support.stored_events import demo_settings, store_raw

ROOT = Path(__file__).resolve().parents[2]


def _open_ip_events() -> list[dict[str, Any]]:
    """The Vardø example without `case.closed`: a transferred stafettlogg and an open IP."""
    lines = (ROOT / "examples" / "events" / "vardo.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and '"case.closed"' not in line]


@pytest.fixture
async def world(
    store: Store, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """A runtime over the store and an in-process mock, the Vardø case drained."""
    settings = demo_settings(sqlite_url)
    transport = httpx.ASGITransport(app=create_app(rate_limit=0))
    rt = await Runtime.open(settings, store=store, transport=transport, clock=clock)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as admin:
        await store_raw(store, settings, _open_ip_events())
        report = await run_once(rt, poll=False, max_wait_s=0)
        assert report.operations_pending == 0 and report.parked_cases == 0
        yield rt, admin
    await rt.http.aclose()


async def _state(admin: httpx.AsyncClient) -> dict[str, Any]:
    state: dict[str, Any] = (await admin.get("/_mock/state")).json()
    return state


def _writes(state: dict[str, Any]) -> int:
    return sum(1 for r in state["requests"] if is_write(r["method"], r["path"]))


async def test_a_wiped_remote_with_a_transferred_plan_is_rebuilt_exactly(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """Stafettlogg, transfer, IP and archive return as they were; a second pass sends nothing."""
    rt, admin = world
    before = await _state(admin)
    assert {p["planTypeId"] for p in before["samspill"]["plans"]} == {
        "stafettlogg",
        "individuell-plan",
    }
    (await admin.post("/_mock/reset")).raise_for_status()
    keys = await case_keys(rt.store)
    report = await resync(rt, keys, max_wait_s=0)
    assert report.cases == 1 and report.created > 0 and report.reported == []
    after = await _state(admin)
    assert duplicates(after) == []
    assert normalize(after) == normalize(before)
    again = await resync(rt, keys, max_wait_s=0)
    assert (again.created, again.updated, again.adopted) == (0, 0, 0)
    assert _writes(await _state(admin)) == _writes(after)


async def test_the_service_reconcile_job_records_drift_per_tenant_and_kind(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """IP drift sets the reconcile tick's gauge, cleared after resync; --since picks cases."""
    rt, admin = world
    assert await case_keys(rt.store, since=date(2100, 1, 1)) == []
    assert len(await case_keys(rt.store, since=date(2000, 1, 1))) == 1
    ip = next(
        p for p in (await _state(admin))["samspill"]["plans"] if p["planTypeId"] != "stafettlogg"
    )
    goal = next(g for g in ip["goals"] if g["externalReference"].endswith(":goal:G2"))
    deleted = await admin.delete(f"/_mock/samspill/plans/{ip['planId']}/goals/{goal['id']}")
    deleted.raise_for_status()
    ticks = _Ticks(rt)
    await ticks.reconcile()
    sample = {"tenant": "vardo", "kind": "goal"}
    assert rt.metrics.registry.get_sample_value("stafett_reconcile_drift_items", sample) == 1
    drift = (await reconcile(rt)).drift
    assert [(d["item"], d["problem"]) for d in drift] == [("ip/goal:G2", "missing remotely")]

    await resync(rt, await case_keys(rt.store, tenant="vardo"), max_wait_s=0)
    await ticks.reconcile()
    assert (await reconcile(rt)).drift == []
    assert rt.metrics.registry.get_sample_value("stafett_reconcile_drift_items", sample) is None
