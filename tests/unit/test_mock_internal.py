"""The mock's internal BTI system: the event feed and its documents."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from tests.unit.test_mock_support import MODUM, VARDO, bearer

pytest_plugins = ["tests.conftest_mock"]

FEED = "/internal/v1/events"


def _event(tenant: str, sequence: int) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-4000-8000-{sequence:012d}",
        "schema_version": 1,
        "tenant": tenant,
        "case_id": "BTI-2026-0042",
        "sequence": sequence,
        "occurred_at": "2026-11-02T10:15:00+01:00",
        "type": "log.noted",
        "actor": {"name": "Test Lærer", "service": "skole"},
        "data": {"note_id": f"N{sequence}", "text": "Notat"},
    }


async def _append(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    response = await client.post("/_mock/internal/events", json=events)
    assert response.status_code == 200


async def test_feed_pages_with_opaque_cursors(mock_client: httpx.AsyncClient) -> None:
    """Events come back in order, `limit` at a time, `has_more` until the end; the last cursor
    stays valid and later events appear after it."""
    await _append(mock_client, [_event("modum", i) for i in range(1, 6)])
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        page = (await mock_client.get(FEED, params=params, headers=bearer(MODUM.feed_key))).json()
        pages += 1
        seen += [e["sequence"] for e in page["events"]]
        params["after"] = page["next_cursor"]
        if not page["has_more"]:
            break
    assert (seen, pages) == ([1, 2, 3, 4, 5], 3)
    assert not params["after"].isdigit()
    await _append(mock_client, [_event("modum", 6)])
    later = (await mock_client.get(FEED, params=params, headers=bearer(MODUM.feed_key))).json()
    assert [e["sequence"] for e in later["events"]] == [6]
    assert later["has_more"] is False


async def test_events_are_served_as_appended(mock_client: httpx.AsyncClient) -> None:
    """The feed hands out the appended event unchanged (the adapter validates it)."""
    event = _event("modum", 1) | {"data": {"unexpected": True}}
    await _append(mock_client, [event])
    page = (await mock_client.get(FEED, headers=bearer(MODUM.feed_key))).json()
    assert page["events"] == [event]


async def test_feed_is_per_tenant(mock_client: httpx.AsyncClient) -> None:
    """Each feed key sees only its tenant's events."""
    await _append(mock_client, [_event("modum", 1), _event("vardo", 1), _event("vardo", 2)])
    modum = (await mock_client.get(FEED, headers=bearer(MODUM.feed_key))).json()
    vardo = (await mock_client.get(FEED, headers=bearer(VARDO.feed_key))).json()
    assert [e["tenant"] for e in modum["events"]] == ["modum"]
    assert [e["tenant"] for e in vardo["events"]] == ["vardo", "vardo"]


@pytest.mark.parametrize("headers", [{}, bearer("wrong-key"), bearer(MODUM.p360_key)])
async def test_feed_needs_a_feed_key(
    mock_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """No key or a wrong one → 401."""
    assert (await mock_client.get(FEED, headers=headers)).status_code == 401


@pytest.mark.parametrize(
    ("params", "status"), [({"after": "garbage!"}, 400), ({"limit": 501}, 422), ({"limit": 0}, 422)]
)
async def test_bad_cursor_or_limit(
    mock_client: httpx.AsyncClient, params: dict[str, Any], status: int
) -> None:
    """A cursor the feed did not issue → 400; limit outside 1..500 → 422."""
    response = await mock_client.get(FEED, params=params, headers=bearer(MODUM.feed_key))
    assert response.status_code == status


async def test_events_need_a_tenant(mock_client: httpx.AsyncClient) -> None:
    """The admin call refuses events without a tenant, and appends nothing."""
    response = await mock_client.post("/_mock/internal/events", json=[_event("modum", 1), {}])
    assert response.status_code == 422
    state = (await mock_client.get("/_mock/state")).json()
    assert state["internal"]["events"] == 0


async def test_document_round_trip(mock_client: httpx.AsyncClient) -> None:
    """A stored document is served with its media type and sha256 at the URL the admin call gave."""
    content = b"%PDF-1.7\n% referat\n"
    stored = await mock_client.post(
        "/_mock/internal/documents",
        json={
            "id": "ref-1",
            "media_type": "application/pdf",
            "content_base64": base64.b64encode(content).decode(),
        },
    )
    digest = hashlib.sha256(content).hexdigest()
    assert stored.json() == {"url": "http://mock/internal/v1/documents/ref-1", "sha256": digest}
    response = await mock_client.get(stored.json()["url"], headers=bearer(MODUM.feed_key))
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["X-Content-SHA256"] == digest
    assert response.headers["ETag"] == f'"{digest}"'


async def test_document_errors(mock_client: httpx.AsyncClient) -> None:
    """An unknown document → 404; no feed key → 401; undecodable base64 is refused on store."""
    url = "/internal/v1/documents/nope"
    assert (await mock_client.get(url, headers=bearer(MODUM.feed_key))).status_code == 404
    assert (await mock_client.get(url)).status_code == 401
    bad = await mock_client.post(
        "/_mock/internal/documents",
        json={"id": "x", "media_type": "application/pdf", "content_base64": "***"},
    )
    assert bad.status_code == 422
