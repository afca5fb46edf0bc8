"""Helpers of the archive end-to-end tests (no tests here): the engine on the mock, streams.

`Engine` is the real engine — `Runtime.open` over the demo settings, the mock in-process
as every remote, a real store and a fake clock — plus the mock's admin door. Events go
through the feed door (`/_mock/internal/events`, then `run_once` polls), exactly as the
service and the demo take them. The `test_archive_*` modules import from here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from adapter.cli.demo import load_examples
from adapter.jobs.once import RunOnceReport, run_once
from adapter.jobs.plan_step import plan_pending
from adapter.mock import create_app
from adapter.settings import Settings, load_settings
from adapter.store import Store
from adapter.store.records import StoredOperation
from adapter.store.states import OperationState
from adapter.targets.p360 import SIF_PATH
from adapter.wiring.runtime import Runtime
from tests.integration.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "events"
MINUTES = ROOT / "examples" / "minutes"
DEMO_CONFIG = ROOT / "config" / "demo.toml"
MOCK_URL = "http://mock"
PDFA = (MINUTES / "minutes-pdfa.pdf").read_bytes()
PLAIN = (MINUTES / "minutes-plain.pdf").read_bytes()
CASES = {"modum": "BTI-2026-0042", "vardo": "BS-2026-0007"}
_IDS = uuid.UUID("5b0f4c4e-6a43-4c57-9a59-3f4f7a1d2c11")


def sha(data: bytes) -> str:
    """The sha256 hex digest of `data`."""
    return hashlib.sha256(data).hexdigest()


def demo_settings(**env: str) -> Settings:
    """config/demo.toml with every remote at the in-process mock, plus `STAFETT_*` overrides."""
    return load_settings(DEMO_CONFIG, environ={"STAFETT_MOCK_URL": MOCK_URL, **env})


def examples(tenant: str | None = None) -> list[dict[str, Any]]:
    """The demo events (deep copies), of one tenant or of both."""
    events = copy.deepcopy(load_examples(EXAMPLES))
    return [e for e in events if tenant is None or e["tenant"] == tenant]


def held_meetings(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `meeting.held` events of `events`, in order."""
    return [e for e in events if e["type"] == "meeting.held"]


def meeting(events: list[dict[str, Any]], tenant: str, meeting_id: str) -> dict[str, Any]:
    """The `meeting.held` event of `tenant`'s meeting `meeting_id`."""
    found = [
        e
        for e in held_meetings(events)
        if e["tenant"] == tenant and e["data"]["meeting_id"] == meeting_id
    ]
    assert len(found) == 1
    return found[0]


def refer_minutes(event: dict[str, Any], url: str, sha256: str) -> None:
    """Make the minutes of a `meeting.held` event a `document_ref` to `url`."""
    minutes = event["data"]["minutes"]
    minutes.pop("content_base64", None)
    minutes["document_ref"] = url
    minutes["sha256"] = sha256


def clone_case(events: list[dict[str, Any]], case_id: str) -> list[dict[str, Any]]:
    """`events` as another case: a new case_id and new (stable) event ids, all else kept."""
    clones = copy.deepcopy(events)
    for event in clones:
        event["event_id"] = str(uuid.uuid5(_IDS, f"{case_id}:{event['event_id']}"))
        event["case_id"] = case_id
    return clones


def names_and_nins(events: list[dict[str, Any]]) -> set[str]:
    """Every person's name (and each word of it) and nin found anywhere in `events`."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in {"name", "nin"} and isinstance(inner, str):
                    found.add(inner)
                    found.update(w for w in inner.split() if len(w) > 2)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(events)
    return found


@dataclass
class Engine:
    """The engine over the mock; see the module docstring."""

    rt: Runtime
    app: FastAPI
    admin: httpx.AsyncClient
    clock: FakeClock

    async def feed(self, events: list[dict[str, Any]]) -> None:
        """Put `events` on the mock's feed (the engine polls them on its next run)."""
        (await self.admin.post("/_mock/internal/events", json=events)).raise_for_status()

    async def document(self, doc_id: str, data: bytes, media_type: str = "application/pdf") -> str:
        """Seed a document on the internal system; its absolute URL."""
        body = {
            "id": doc_id,
            "media_type": media_type,
            "content_base64": base64.b64encode(data).decode("ascii"),
        }
        answer = await self.admin.post("/_mock/internal/documents", json=body)
        answer.raise_for_status()
        url: str = answer.json()["url"]
        return url

    async def fault(self, rule: Mapping[str, Any]) -> None:
        """Install one fault rule on the mock."""
        (await self.admin.post("/_mock/faults", json=dict(rule))).raise_for_status()

    async def clear_faults(self) -> None:
        """Remove every fault rule."""
        (await self.admin.delete("/_mock/faults")).raise_for_status()

    async def state(self) -> dict[str, Any]:
        """`GET /_mock/state`."""
        answer = await self.admin.get("/_mock/state")
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    async def run(self, *, max_wait_s: float = 3600.0) -> RunOnceReport:
        """`run --once`: poll, plan, dispatch; waits for retries on the fake clock only."""

        async def sleep(seconds: float) -> None:
            self.clock.advance(seconds)

        return await run_once(self.rt, max_wait_s=max_wait_s, sleep=sleep)

    async def turn(self) -> int:
        """One planning pass and one dispatcher pass at the current fake time; ops attempted."""
        await plan_pending(self.rt.store, self.rt.rules, self.rt.lookup)
        return (await self.rt.dispatcher().run_pass()).ran

    async def operations(self, tenant: str, case_id: str | None = None) -> list[StoredOperation]:
        """The operations of one case (default: the tenant's demo case)."""
        return await self.rt.store.outbox.operations_for_case(tenant, case_id or CASES[tenant])

    async def op(self, op_ref: str) -> StoredOperation:
        """One operation by its op_ref."""
        found = await self.rt.store.outbox.get_operation_by_ref(op_ref)
        assert found is not None, op_ref
        return found

    async def states(self) -> dict[OperationState, int]:
        """Operations by state, across the store."""
        return await self.rt.store.outbox.count_operations_by_state()


@asynccontextmanager
async def engine(
    store: Store, clock: FakeClock, settings: Settings | None = None
) -> AsyncIterator[Engine]:
    """An `Engine` on `store` and `clock` with a fresh mock (rate limit off)."""
    app = create_app(rate_limit=0)
    transport = httpx.ASGITransport(app=app)
    rt = await Runtime.open(
        settings or demo_settings(), transport=transport, clock=clock, store=store, owner="e2e"
    )
    try:
        async with httpx.AsyncClient(transport=transport, base_url=MOCK_URL) as admin:
            yield Engine(rt=rt, app=app, admin=admin, clock=clock)
    finally:
        await rt.http.aclose()  # the store belongs to the fixture


def sif_requests(state: Mapping[str, Any], method: str | None = None) -> list[dict[str, Any]]:
    """The mock's logged SIF requests (optionally of one `Service/Method`), in order."""
    found = []
    for request in state["requests"]:
        path: str = request["path"]
        if not path.startswith(SIF_PATH):
            continue
        if method is None or path.endswith("/" + method):
            found.append(request)
    return found


def samspill_requests(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The mock's logged Flyt Samspill requests (token calls included)."""
    return [r for r in state["requests"] if r["path"].startswith(("/samspill", "/connect/token"))]


def plan_of(state: Mapping[str, Any], external_reference_prefix: str) -> list[dict[str, Any]]:
    """The Samspill plans whose log or items name `external_reference_prefix` (a case)."""
    plans = []
    for plan in state["samspill"]["plans"]:
        if external_reference_prefix in str(plan):
            plans.append(plan)
    return plans
