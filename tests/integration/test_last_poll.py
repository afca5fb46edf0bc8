"""The last successful poll is recorded when the feed answers, not when its cursor moves."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapter.cli.status_cmd import collect_status
from adapter.errors import TransientError
from adapter.intake.feed import FEED_CURSOR, poll_feed
from adapter.settings import Settings, load_settings
from adapter.store import Store, open_store
from tests.integration.conftest import T0, FakeClock

ROOT = Path(__file__).resolve().parents[2]
MODUM = [json.loads(x) for x in (ROOT / "examples/events/modum.jsonl").read_text().splitlines()]


def _settings(database_url: str = "sqlite+aiosqlite:///unused.db") -> Settings:
    return load_settings(
        ROOT / "config" / "demo.toml", environ={"STAFETT_DATABASE_URL": database_url}
    )


async def _poll(store: Store, settings: Settings, answer: httpx.Response) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: answer)) as http:
        await poll_feed(
            settings.tenant("modum"), http=http, store=store, rules=settings.tenants.get
        )


async def test_a_quiet_poll_moves_the_last_poll_but_not_the_cursor(
    store: Store, clock: FakeClock
) -> None:
    """A poll that finds nothing new is still a successful poll: it is recorded at its time."""
    settings = _settings()
    page = {"events": MODUM[:2], "next_cursor": "c-2", "has_more": False}
    await _poll(store, settings, httpx.Response(200, json=page))
    later = clock.advance(600)
    await _poll(store, settings, httpx.Response(200, json={"events": [], "has_more": False}))
    [poll] = await store.status.list_polls()
    assert (poll.tenant, poll.name, poll.last_success_at) == ("modum", FEED_CURSOR, later)
    [cursor] = await store.cursors.list_cursors()
    assert cursor.updated_at == T0  # the cursor did not move: it is not the last poll


async def test_a_failed_poll_keeps_the_last_success_and_records_the_error(
    store: Store, clock: FakeClock
) -> None:
    """A feed answering 503 leaves the last success as it was; the failure and its text are
    recorded beside it."""
    settings = _settings()
    await _poll(store, settings, httpx.Response(200, json={"events": [], "has_more": False}))
    failed_at = clock.advance(60)
    with pytest.raises(TransientError):
        await _poll(store, settings, httpx.Response(503, text="Emma Haugen 14831651238"))
    [poll] = await store.status.list_polls()
    assert poll.last_success_at == T0
    assert poll.last_failure_at == failed_at
    assert poll.last_error == "feed of modum answered HTTP 503"


async def test_status_shows_the_last_successful_poll_not_the_cursor_move(
    sqlite_url: str,
) -> None:
    """`stafett status --json`: `last_poll` is the time of the last successful poll."""
    clock = FakeClock()
    settings = _settings(sqlite_url)
    async with await open_store(sqlite_url, clock=clock) as store:
        page = {"events": MODUM[:1], "next_cursor": "c-1", "has_more": False}
        await _poll(store, settings, httpx.Response(200, json=page))
        later = clock.advance(3600)
        await _poll(store, settings, httpx.Response(200, json={"events": [], "has_more": False}))
    status = await collect_status(settings)
    assert status["tenants"]["modum"]["last_poll"] == later.isoformat()
    assert status["tenants"]["vardo"]["last_poll"] is None
