"""A drained Vardø case for resync tests: a runtime on a real store and the mock in-process.

`open_world` stores the Vardø example without `case.closed` (a transferred stafettlogg and
an open IP), drains it to the mock, and hands over the runtime, an admin client of the
mock and the app's state objects (to wipe only the archive, which `/_mock` cannot).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapter.jobs.once import run_once
from adapter.mock import create_app
from adapter.mock.app import MockHandles
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.audit_repo import Actor
from adapter.wiring.runtime import Runtime
from tests.support.remote_state import is_write
from tests.support.stored_events import demo_settings, store_raw

__all__ = ["ACTOR", "World", "open_ip_events", "open_world"]

ROOT = Path(__file__).resolve().parents[2]
ACTOR = Actor("tester", "a test")


def open_ip_events() -> list[dict[str, Any]]:
    """The Vardø example without `case.closed`: a transferred stafettlogg and an open IP."""
    lines = (ROOT / "examples" / "events" / "vardo.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and '"case.closed"' not in line]


@dataclass
class World:
    """The runtime, the mock's admin client and its state objects."""

    rt: Runtime
    admin: httpx.AsyncClient
    mock: MockHandles
    settings: Settings
    transport: httpx.AsyncBaseTransport

    async def state(self) -> dict[str, Any]:
        """The mock's whole state."""
        response = await self.admin.get("/_mock/state")
        response.raise_for_status()
        return dict(response.json())

    async def writes(self) -> int:
        """Writes the mock has received so far (mock-and-cli.md's definition)."""
        return sum(1 for r in (await self.state())["requests"] if is_write(r["method"], r["path"]))

    async def plan(self, plan_type: str) -> dict[str, Any]:
        """The one plan of `plan_type` (`stafettlogg`, `individuell-plan`)."""
        (plan,) = [
            p for p in (await self.state())["samspill"]["plans"] if p["planTypeId"] == plan_type
        ]
        return dict(plan)

    def wipe_archive(self) -> None:
        """Forget every archive case, document and person (Samspill stays)."""
        self.mock.archive.reset()
        for key in self.mock.state.startup.p360:
            self.mock.archive.register_key(key.authkey, key.clientid)


@asynccontextmanager
async def open_world(store: Store, database_url: str, clock: Any) -> AsyncIterator[World]:
    """The Vardø case drained to a fresh in-process mock, over `store`."""
    settings = demo_settings(database_url)
    app = create_app(rate_limit=0)
    handles = app.state.mock
    assert isinstance(handles, MockHandles)
    transport = httpx.ASGITransport(app=app)
    rt = await Runtime.open(settings, store=store, transport=transport, clock=clock)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as admin:
            await store_raw(store, settings, open_ip_events())
            report = await run_once(rt, poll=False, max_wait_s=0)
            assert report.operations_pending == 0 and report.parked_cases == 0
            yield World(rt, admin, handles, settings, transport)
    finally:
        await rt.http.aclose()
