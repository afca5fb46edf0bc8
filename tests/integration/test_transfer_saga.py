"""The stafettlogg → IP transfer saga against the mock in-process, under a fault at each step.

Every run ends the same way: exactly one IP, the stafettlogg closed `transferred-to-ip`
and pointing at it, the events after `ip.granted` on the IP, one closing summary archived,
nothing written twice, nothing left waiting.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.jobs.once import RunOnceReport, run_once
from adapter.mock import create_app
from adapter.planning.operations import OpKind
from adapter.planning.payloads import Payload
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.states import OperationState, Target
from adapter.targets.result import Result, TargetClient
from adapter.wiring.runtime import Runtime
from tests.integration.conftest import FakeClock
from tests.support.remote_state import duplicates
from tests.support.stored_events import demo_settings, store_raw

ROOT = Path(__file__).resolve().parents[2]
CASE = "BS-2026-0007"
REF = f"stafett:vardo:{CASE}"
IP_GRANTED = 20  # the sequence of `ip.granted` in examples/events/vardo.jsonl
TRANSFER = r"/plans/[^/]+/transfer$"
CREATE_DOCUMENT = r"DocumentService/CreateDocument$"


def vardo_example() -> list[dict[str, Any]]:
    """Every event of examples/events/vardo.jsonl, ending with `case.closed`."""
    lines = (ROOT / "examples" / "events" / "vardo.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def vardo_events() -> list[dict[str, Any]]:
    """The Vardø example up to (not including) `case.closed`: 19 before the IP, 3 from it."""
    events = vardo_example()
    assert events[IP_GRANTED - 1]["type"] == "ip.granted"
    return [e for e in events if e["type"] != "case.closed"]


@dataclass
class Saga:
    """A store, the mock in-process, and runtimes over both that a test may drop at will."""

    store: Store
    settings: Settings
    clock: FakeClock
    transport: httpx.ASGITransport
    admin: httpx.AsyncClient

    async def runtime(self, owner: str) -> Runtime:
        return await Runtime.open(
            self.settings,
            store=self.store,
            transport=self.transport,
            clock=self.clock,
            owner=owner,
        )

    async def feed(self, events: list[dict[str, Any]]) -> None:
        await store_raw(self.store, self.settings, events)

    async def drain(self, rt: Runtime) -> RunOnceReport:
        async def sleep(seconds: float) -> None:
            self.clock.advance(seconds)

        return await run_once(rt, max_wait_s=3600, poll=False, sleep=sleep)

    async def fault(self, path: str, action: Mapping[str, object], times: int = 1) -> None:
        rule = {"match": {"method": "POST", "path": path}, "action": action, "times": times}
        (await self.admin.post("/_mock/faults", json=rule)).raise_for_status()

    async def remote(self) -> dict[str, Any]:
        state: dict[str, Any] = (await self.admin.get("/_mock/state")).json()
        return state


@pytest.fixture
async def saga(store: Store, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Saga]:
    """The Vardø demo settings (one operation at a time) over the store and an in-process mock."""
    settings = demo_settings(sqlite_url, STAFETT_DISPATCH__CONCURRENCY="1")
    transport = httpx.ASGITransport(app=create_app(rate_limit=0))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as admin:
        yield Saga(store, settings, clock, transport, admin)


async def assert_transferred_once(saga: Saga) -> dict[str, Any]:
    """The saga's end state holds (see the module docstring); returns the IP."""
    state = await saga.remote()
    plans = state["samspill"]["plans"]
    logs = [p for p in plans if p["planTypeId"] == "stafettlogg"]
    ips = [p for p in plans if p["planTypeId"] == "individuell-plan"]
    assert len(logs) == 1 and len(ips) == 1, [p["planTypeId"] for p in plans]
    source, ip = logs[0], ips[0]
    assert source["status"] == "closed"
    assert source["closedReason"] == "transferred-to-ip"
    assert source["transferredToPlanId"] == ip["planId"]
    assert ip["transferredFromPlanId"] == source["planId"]
    assert ip["status"] == "active"
    assert ip["planLead"]["nin"] == "21879121466"  # the coordinator
    refs = {name: {i["externalReference"] for i in ip[name]} for name in ("goals", "calendar")}
    assert f"{REF}:goal:G1" in refs["goals"]  # carried over by the transfer
    assert f"{REF}:goal:G2" in refs["goals"]  # set after ip.granted
    assert f"{REF}:meeting:M3" in refs["calendar"]  # scheduled after ip.granted
    assert f"{REF}:goal:G2" not in {g["externalReference"] for g in source["goals"]}
    summaries = [
        d for d in state["p360"]["documents"] if d["Title"] == "Sluttrapport – stafettlogg"
    ]
    assert len(summaries) == 1
    assert summaries[0]["Remarks"][0]["Content"] == f"{REF}:summary:stafettlogg"
    assert duplicates(state) == []
    counts = await saga.store.outbox.count_operations_by_state()
    assert {s for s, n in counts.items() if n} == {OperationState.DONE}
    links = await saga.store.links.links_for_case("vardo", CASE)
    assert links[(Target.SAMSPILL, "plan:ip")] == ip["planId"]
    return ip


def transfer_posts(state: dict[str, Any]) -> int:
    """How many transfer requests reached the mock."""
    return sum(
        1 for r in state["requests"] if r["method"] == "POST" and r["path"].endswith("/transfer")
    )


async def _before_the_ip(saga: Saga) -> Runtime:
    events = vardo_events()
    await saga.feed(events[: IP_GRANTED - 1])
    rt = await saga.runtime("first")
    report = await saga.drain(rt)
    assert report.operations_pending == 0 and report.parked_cases == 0
    await saga.feed(events[IP_GRANTED - 1 :])
    return rt


async def test_undisturbed_transfer_is_the_reference(saga: Saga) -> None:
    """Without faults the saga ends in the expected state with one transfer request."""
    rt = await _before_the_ip(saga)
    await saga.drain(rt)
    await rt.http.aclose()
    await assert_transferred_once(saga)
    assert transfer_posts(await saga.remote()) == 1


@pytest.mark.parametrize("path", [TRANSFER, CREATE_DOCUMENT], ids=["transfer", "summary"])
async def test_commit_then_fail_is_adopted_not_repeated(saga: Saga, path: str) -> None:
    """A 502 after the mock committed the transfer (or the summary): looked up and adopted."""
    rt = await _before_the_ip(saga)
    await saga.fault(path, {"commit_then_fail": 502})
    await saga.drain(rt)
    await rt.http.aclose()
    await assert_transferred_once(saga)


class _Killed(BaseException):
    """The process dies (not an Exception: nothing in the dispatcher may handle it)."""


@dataclass
class _Dying:
    """A target client that dies on the operation whose op_ref ends with `at`."""

    inner: TargetClient
    at: str
    after_effect: bool

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        if not op_ref.endswith(self.at):
            return await self.inner.execute(kind, payload, ids, op_ref=op_ref)
        if self.after_effect:
            await self.inner.execute(kind, payload, ids, op_ref=op_ref)
        raise _Killed(op_ref)

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        return await self.inner.lookup(kind, payload, ids, op_ref=op_ref)


@pytest.mark.parametrize("after_effect", [True, False], ids=["after-effect", "before-effect"])
@pytest.mark.parametrize(
    "at", [":plan:ip", ":summary:stafettlogg", ":goal:G2"], ids=["transfer", "summary", "next"]
)
async def test_process_killed_at_each_step_is_finished_by_the_next_process(
    saga: Saga, at: str, after_effect: bool
) -> None:
    """Killed mid-operation (its lease left behind), a new process on the same store finishes."""
    rt = await _before_the_ip(saga)
    rt.clients = {key: _Dying(client, at, after_effect) for key, client in rt.clients.items()}
    with pytest.raises(_Killed):
        await saga.drain(rt)
    await rt.http.aclose()  # dropped without completing anything
    stuck = await saga.store.outbox.count_operations_by_state()
    assert stuck[OperationState.IN_FLIGHT] == 1
    saga.clock.advance(saga.settings.dispatch.lease_seconds + 1)
    second = await saga.runtime("second")
    await saga.drain(second)
    await second.http.aclose()
    await assert_transferred_once(saga)
    assert transfer_posts(await saga.remote()) == 1


async def test_transfer_done_behind_our_back_is_adopted(saga: Saga) -> None:
    """409 already-transferred on our first call: the existing IP is adopted, none is made."""
    rt = await _before_the_ip(saga)
    links = await saga.store.links.links_for_case("vardo", CASE)
    source_id = links[(Target.SAMSPILL, "plan:stafettlogg")]
    token = await saga.admin.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "stafett-vardo",
            "client_secret": "vardo-demo-secret",
            "tenant_id": saga.settings.tenants["vardo"].samspill.tenant_id,
        },
    )
    token.raise_for_status()
    behind = await saga.admin.post(
        f"/samspill/api/v1/plans/{source_id}/transfer",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        json={
            "targetPlanTypeId": "individuell-plan",
            "coordinator": {"name": "Randi Mikkelsen", "nin": "21879121466"},
            "externalReference": "made-by-hand-in-samspill",
        },
    )
    assert behind.status_code == 201, behind.text
    await saga.drain(rt)
    await rt.http.aclose()
    ip = await assert_transferred_once(saga)
    assert ip["planId"] == behind.json()["planId"]
    statuses = [
        r["status"]
        for r in (await saga.remote())["requests"]
        if r["method"] == "POST" and r["path"].endswith("/transfer")
    ]
    assert statuses == [201, 409]
