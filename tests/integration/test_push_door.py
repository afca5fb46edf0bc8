"""The push door and health endpoints of the adapter's HTTP port, on a real store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapter.metrics import Metrics
from adapter.settings import Settings, load_settings
from adapter.store import Store
from adapter.store.states import EventState
from adapter.web import create_web_app, tenant_for_token

ROOT = Path(__file__).resolve().parents[2]
MODUM = [json.loads(x) for x in (ROOT / "examples/events/modum.jsonl").read_text().splitlines()]
MODUM_TOKEN = {"Authorization": "Bearer modum-push-demo-token"}


@pytest.fixture
def settings() -> Settings:
    """Demo settings (push tokens per tenant) with a small body limit."""
    return load_settings(
        ROOT / "config" / "demo.toml", environ={"STAFETT_HTTP__MAX_BODY_BYTES": "200000"}
    )


@pytest.fixture
async def client(settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the adapter's app, in-process."""
    app = create_web_app(
        settings=settings, store=store, rules=settings.tenants.get, metrics=Metrics()
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stafett") as c:
        yield c


def test_token_lookup_names_the_tenant_only_for_an_exact_token(settings: Settings) -> None:
    """Only the exact bearer token of a tenant maps to it."""
    assert tenant_for_token(settings, "Bearer modum-push-demo-token") == "modum"
    assert tenant_for_token(settings, "Bearer modum-push-demo-toke") is None
    assert tenant_for_token(settings, "modum-push-demo-token") is None
    assert tenant_for_token(settings, None) is None


async def test_push_without_a_valid_token_is_refused(client: httpx.AsyncClient) -> None:
    """No token or a wrong token → 401 and nothing stored."""
    assert (await client.post("/events", json=MODUM[0])).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.post("/events", json=MODUM[0], headers=wrong)).status_code == 401


async def test_push_stores_events_and_answers_per_event(
    client: httpx.AsyncClient, store: Store
) -> None:
    """An array is answered 202 with one result per event; a repeat is a duplicate."""
    first = await client.post("/events", json=MODUM[:5], headers=MODUM_TOKEN)
    assert first.status_code == 202
    assert [r["result"] for r in first.json()["results"]] == ["accepted"] * 5
    again = await client.post("/events", json=MODUM[0], headers=MODUM_TOKEN)
    assert again.json()["results"][0]["result"] == "duplicate"
    assert (await store.events.count_events_by_state())[EventState.ACCEPTED] == 5


async def test_push_of_another_tenants_event_is_rejected(
    client: httpx.AsyncClient, store: Store
) -> None:
    """An event for a tenant other than the token's is rejected and stored as such."""
    token = {"Authorization": "Bearer vardo-push-demo-token"}
    out = await client.post("/events", json=MODUM[0], headers=token)
    result = out.json()["results"][0]
    assert result["result"] == "rejected" and result["field"] == "tenant"
    assert (await store.events.count_events_by_state())[EventState.REJECTED] == 1


async def test_push_over_the_size_limit_is_413(client: httpx.AsyncClient) -> None:
    """A body over the configured limit is refused with 413."""
    big = json.dumps(MODUM * 40)
    assert len(big) > 200000
    out = await client.post(
        "/events", content=big, headers={**MODUM_TOKEN, "Content-Type": "application/json"}
    )
    assert out.status_code == 413


async def test_push_of_broken_json_is_stored_as_rejected(
    client: httpx.AsyncClient, store: Store
) -> None:
    """Broken JSON → 400 naming the field, and the body is kept as a rejected row."""
    out = await client.post("/events", content=b'{"event_id": ', headers=MODUM_TOKEN)
    assert out.status_code == 400
    assert out.json()["results"][0]["field"] == "<json>"
    assert (await store.events.count_events_by_state())[EventState.REJECTED] == 1


async def test_health_readiness_and_metrics_answer(client: httpx.AsyncClient) -> None:
    """/healthz and /readyz answer 200 on a current store; /metrics is Prometheus text."""
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "stafett_remote_calls" in metrics.text


async def test_push_survives_input_that_broke_the_bookkeeping(
    client: httpx.AsyncClient, store: Store
) -> None:
    """A huge sequence, a 300-char key and a lone surrogate in one array are each a
    rejected row; the valid event beside them is stored; the answer is 202."""
    base = MODUM[0]
    items = [
        {**base, "sequence": 10**20},
        {**base, "x" * 300: 1},
        {**base, "actor": {"name": "\ud800", "service": "skole"}},
        base,
    ]
    body = json.dumps(items).encode("utf-8", "surrogatepass")
    out = await client.post("/events", content=body, headers=MODUM_TOKEN)
    assert out.status_code == 202
    results = out.json()["results"]
    assert [(r["result"], r.get("field")) for r in results] == [
        ("rejected", "sequence"),
        ("rejected", "<hidden>"),
        ("rejected", "<json>"),
        ("accepted", None),
    ]
    counts = await store.events.count_events_by_state()
    assert (counts[EventState.REJECTED], counts[EventState.ACCEPTED]) == (3, 1)


@pytest.mark.parametrize(
    "body",
    [b"[" * 90_000 + b"]" * 90_000, b'{"a": "\x00"}', b"\xff\xfe"],
    ids=["deep", "nul", "not-utf8"],
)
async def test_push_of_undecodable_bodies_is_400_and_kept(
    client: httpx.AsyncClient, store: Store, body: bytes
) -> None:
    """Deep nesting, a raw NUL, bytes that are not UTF-8: 400 at <json>, one rejected row."""
    out = await client.post("/events", content=body, headers=MODUM_TOKEN)
    assert out.status_code == 400
    assert out.json()["results"][0]["field"] == "<json>"
    assert (await store.events.count_events_by_state())[EventState.REJECTED] == 1


async def test_push_answer_does_not_echo_a_name_or_nin_put_in_an_id(
    client: httpx.AsyncClient, store: Store
) -> None:
    """An event_id or case_id holding a name or nin is neither answered nor kept as an id."""
    nin = "14831651238"
    raw = {**MODUM[0], "event_id": f"Emma Haugen {nin}", "case_id": nin}
    out = await client.post("/events", json=raw, headers=MODUM_TOKEN)
    assert "Emma" not in out.text and nin not in out.text and nin[:6] not in out.text
    [row] = await store.events.list_events(EventState.REJECTED)
    assert (row.event_id, row.case_id, row.tenant) == (None, None, "modum")
