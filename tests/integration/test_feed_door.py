"""The feed door on a real store: pages stored then the cursor moved; a bad page is transient."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from adapter.errors import TransientError
from adapter.intake.feed import FEED_CURSOR, poll_feed
from adapter.settings import Settings, load_settings
from adapter.store import Store
from adapter.store.states import EventState

ROOT = Path(__file__).resolve().parents[2]
MODUM = [json.loads(x) for x in (ROOT / "examples/events/modum.jsonl").read_text().splitlines()]


@pytest.fixture
def settings() -> Settings:
    """The demo settings; the feed of `modum` is answered by each test's transport."""
    return load_settings(ROOT / "config" / "demo.toml", environ={})


def _client(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_page_is_stored_then_the_cursor_moves(settings: Settings, store: Store) -> None:
    """Each event of the page is stored; the cursor is the page's next_cursor."""
    page = {"events": MODUM[:3], "next_cursor": "c-3", "has_more": False}
    async with _client(lambda _r: httpx.Response(200, json=page)) as http:
        report = await poll_feed(
            settings.tenant("modum"), http=http, store=store, rules=settings.tenants.get
        )
    assert (report.pages, len(report.receipts)) == (1, 3)
    assert await store.cursors.get_cursor("modum", FEED_CURSOR) == "c-3"
    assert (await store.events.count_events_by_state())[EventState.ACCEPTED] == 3


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Emma Haugen 14831651238</html>",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"events": "14831651238"}',
        b"[1, 2]",
    ],
    ids=["html", "deep", "events-not-a-list", "not-an-object"],
)
async def test_a_200_that_is_not_a_page_is_a_transient_error_without_the_body(
    settings: Settings, store: Store, body: bytes
) -> None:
    """Not a page of events → TransientError naming tenant and endpoint, never quoting the
    body; nothing stored, the cursor stays."""
    async with _client(lambda _r: httpx.Response(200, content=body)) as http:
        with pytest.raises(TransientError) as info:
            await poll_feed(
                settings.tenant("modum"), http=http, store=store, rules=settings.tenants.get
            )
    message = str(info.value)
    assert "feed of modum answered HTTP 200 with a body that is not a page of events" in message
    assert "Emma" not in message and "148316" not in message
    assert info.value.__cause__ is None
    assert await store.cursors.get_cursor("modum", FEED_CURSOR) is None
    assert sum((await store.events.count_events_by_state()).values()) == 0
