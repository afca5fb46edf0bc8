"""The engine under test: a Runtime on a SQLite temp store against the mock.

`open_engine` builds the whole adapter (settings from `config/demo.toml`, its store, its
target clients) against a mock either in-process (`httpx.ASGITransport`) or at a URL
(a real socket), with one fake clock shared by the engine and the in-process mock, so
retries and `Retry-After` waits pass without real sleeping. Every request the engine
sends is recorded with the fake time it left at (`Engine.sent`); the mock's own request
log (with bodies) is in `/_mock/state`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from adapter.jobs.once import RunOnceReport, run_once
from adapter.mock import create_app
from adapter.settings import Settings, load_settings
from adapter.store import open_store
from adapter.wiring.runtime import Runtime
from tests.support.people import people_of

__all__ = [
    "DEMO_CONFIG",
    "EXAMPLES",
    "IN_PROCESS_URL",
    "ROOT",
    "Engine",
    "Sent",
    "SharedClock",
    "demo_settings",
    "example_events",
    "item",
    "items_by_ref",
    "mock_for",
    "open_engine",
    "people_of",
    "plan_of",
    "up_to",
]

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "demo.toml"
EXAMPLES = ROOT / "examples" / "events"
IN_PROCESS_URL = "http://mock"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class SharedClock:
    """One fake time for the engine (datetime), the store and the mock (seconds)."""

    now: datetime = T0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        """The mock's view: epoch seconds."""
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """What `run_once` and the mock sleep: time jumps, nothing waits."""
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Sent:
    """One request the engine sent: when (fake time), what, and the status it got."""

    method: str
    path: str
    at: datetime
    status: int | None


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes every request to `inner` and records it with the shared clock's time."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: SharedClock) -> None:
        self._inner = inner
        self._clock = clock
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        at = self._clock()
        try:
            response = await self._inner.handle_async_request(request)
        except Exception:
            self.sent.append(Sent(request.method, request.url.path, at, None))
            raise
        self.sent.append(Sent(request.method, request.url.path, at, response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def example_events(*tenants: str) -> list[dict[str, Any]]:
    """The example events of `tenants` (file stems, e.g. "modum"), in file order."""
    events: list[dict[str, Any]] = []
    for tenant in tenants:
        text = (EXAMPLES / f"{tenant}.jsonl").read_text(encoding="utf-8")
        events.extend(json.loads(line) for line in text.splitlines() if line.strip())
    return events


def up_to(events: Iterable[dict[str, Any]], last: Mapping[str, int]) -> list[dict[str, Any]]:
    """The events whose sequence is at most `last[case_id]` (cases not named: none)."""
    return [e for e in events if e["sequence"] <= last.get(e["case_id"], 0)]


def demo_settings(db: Path, mock_url: str = IN_PROCESS_URL, **env: str) -> Settings:
    """`config/demo.toml` with every remote at `mock_url` and the store in `db`.

    `env` adds `STAFETT_*` overrides (e.g. `STAFETT_DISPATCH__CONCURRENCY="1"`); nothing
    is read from the process environment.
    """
    environ = {
        "STAFETT_MOCK_URL": mock_url,
        "STAFETT_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        **env,
    }
    return load_settings(DEMO_CONFIG, environ=environ)


def mock_for(clock: SharedClock, **options: Any) -> FastAPI:
    """A fresh in-process mock on the shared clock (rate limit off unless given)."""
    options.setdefault("rate_limit", 0)
    return create_app(clock=clock.seconds, sleep=clock.sleep, **options)


@dataclass
class Engine:
    """A running engine and an admin client of the mock it talks to."""

    rt: Runtime
    admin: httpx.AsyncClient
    clock: SharedClock
    recorder: RecordingTransport

    @property
    def sent(self) -> list[Sent]:
        """Every request the engine sent, in order."""
        return self.recorder.sent

    async def seed(self, events: list[dict[str, Any]]) -> None:
        """Put `events` on the mock's internal feed (the engine polls them)."""
        response = await self.admin.post("/_mock/internal/events", json=events)
        response.raise_for_status()

    async def fault(self, *rules: dict[str, Any]) -> None:
        """Install fault rules on the mock."""
        response = await self.admin.post("/_mock/faults", json=list(rules))
        response.raise_for_status()

    async def drain(self, *, max_wait_s: float = 7200.0) -> RunOnceReport:
        """Poll, plan and dispatch until nothing is due within `max_wait_s` (fake time)."""
        return await run_once(self.rt, max_wait_s=max_wait_s, sleep=self.clock.sleep)

    async def state(self) -> dict[str, Any]:
        """The mock's whole state: plans, archive, request log (with bodies)."""
        response = await self.admin.get("/_mock/state")
        response.raise_for_status()
        return dict(response.json())


@asynccontextmanager
async def open_engine(
    settings: Settings,
    *,
    app: FastAPI | None = None,
    url: str | None = None,
    clock: SharedClock | None = None,
) -> AsyncIterator[Engine]:
    """The engine against `app` in-process, or against a mock served at `url`."""
    if (app is None) == (url is None):
        raise ValueError("give exactly one of app or url")
    clock = clock or SharedClock()
    inner: httpx.AsyncBaseTransport
    if app is not None:
        inner = httpx.ASGITransport(app=app)
        admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_URL)
    else:
        assert url is not None
        inner = httpx.AsyncHTTPTransport()
        admin = httpx.AsyncClient(base_url=url, timeout=30)
    recorder = RecordingTransport(inner, clock)
    store = await open_store(settings.database_url, clock=clock)
    rt = await Runtime.open(settings, transport=recorder, clock=clock, store=store)
    try:
        async with admin:
            yield Engine(rt=rt, admin=admin, clock=clock, recorder=recorder)
    finally:
        await rt.close()


def plan_of(state: Mapping[str, Any], reference: str) -> dict[str, Any]:
    """The one plan with `externalReference` == `reference`."""
    found = [p for p in state["samspill"]["plans"] if p.get("externalReference") == reference]
    assert len(found) == 1, f"{len(found)} plans with reference {reference}"
    return dict(found[0])


def items_by_ref(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Items keyed by their externalReference (each reference must occur once)."""
    out: dict[str, dict[str, Any]] = {}
    for entry in items:
        reference = entry["externalReference"]
        assert reference not in out, f"{reference} made twice"
        out[reference] = dict(entry)
    return out


def item(items: Iterable[Mapping[str, Any]], **match: Any) -> dict[str, Any]:
    """The one item whose fields equal `match`."""
    found = [dict(i) for i in items if all(i.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} items match {match}"
    return found[0]
