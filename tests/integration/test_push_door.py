"""The push door and health endpoints of the adapter's HTTP port, on a real store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from adapter import __version__
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


async def test_a_tenant_reusing_another_tenants_event_id_blocks_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    """A Modum push that carries the id of a Vardø event is Modum's own event; Vardø's real
    event with that id is still accepted afterwards (event ids are unique per tenant)."""
    vardo = json.loads((ROOT / "examples/events/vardo.jsonl").read_text().splitlines()[0])
    squatter = {**MODUM[0], "event_id": vardo["event_id"]}
    taken = await client.post("/events", json=squatter, headers=MODUM_TOKEN)
    assert [r["result"] for r in taken.json()["results"]] == ["accepted"]
    token = {"Authorization": "Bearer vardo-push-demo-token"}
    real = await client.post("/events", json=vardo, headers=token)
    assert [r["result"] for r in real.json()["results"]] == ["accepted"]
    assert (await store.events.count_events_by_state())[EventState.REJECTED] == 0


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


async def test_push_where_every_event_is_rejected_is_422_with_each_result(
    client: httpx.AsyncClient, store: Store
) -> None:
    """Nothing accepted and nothing a duplicate → 422, still one result per event, each
    rejection stored."""
    bad = [{**MODUM[0], "sequence": 0}, {**MODUM[1], "tenant": "vardo"}]
    out = await client.post("/events", json=bad, headers=MODUM_TOKEN)
    assert out.status_code == 422
    assert [(r["result"], r["field"]) for r in out.json()["results"]] == [
        ("rejected", "sequence"),
        ("rejected", "tenant"),
    ]
    assert (await store.events.count_events_by_state())[EventState.REJECTED] == 2


async def test_push_of_only_duplicates_is_202(client: httpx.AsyncClient) -> None:
    """A duplicate is not a refusal: a repeat of a stored event among rejections is 202."""
    assert (await client.post("/events", json=MODUM[0], headers=MODUM_TOKEN)).status_code == 202
    again = await client.post(
        "/events", json=[MODUM[0], {**MODUM[1], "sequence": 0}], headers=MODUM_TOKEN
    )
    assert again.status_code == 202
    assert [r["result"] for r in again.json()["results"]] == ["duplicate", "rejected"]


async def test_push_log_line_counts_each_outcome(client: httpx.AsyncClient) -> None:
    """The log line says how many were accepted, duplicate and rejected, not just 'events'."""
    await client.post("/events", json=MODUM[0], headers=MODUM_TOKEN)
    body = [MODUM[0], MODUM[1], {**MODUM[2], "sequence": 0}]
    with capture_logs() as logs:
        out = await client.post("/events", json=body, headers=MODUM_TOKEN)
    assert out.status_code == 202
    [line] = [e for e in logs if e["event"] == "push received"]
    assert (line["accepted"], line["duplicate"], line["rejected"]) == (1, 1, 1)
    assert "events" not in line


def _push_requests(metrics_text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "stafett_push_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["status"]] = sample.value
    return found


async def test_refused_pushes_are_counted_and_logged_without_the_body(
    client: httpx.AsyncClient,
) -> None:
    """401, 413 and 400 each leave a log line (status, reason, no body) and a count by
    status in /metrics, beside the 202 and 422 of answered requests."""
    secret_body = json.dumps({"note": "Emma Haugen 14831651238"})
    with capture_logs() as logs:
        await client.post("/events", content=secret_body, headers={"Authorization": "Bearer x"})
        await client.post("/events", content=b"x" * 200_001, headers=MODUM_TOKEN)
        await client.post("/events", content=b"{not json", headers=MODUM_TOKEN)
        await client.post("/events", json=MODUM[0], headers=MODUM_TOKEN)
        await client.post("/events", json={**MODUM[1], "sequence": 0}, headers=MODUM_TOKEN)
    refused = [e for e in logs if e["event"] == "push refused"]
    assert [e["status"] for e in refused] == [401, 413, 400]
    assert all(e["log_level"] == "warning" for e in refused)
    assert "Emma" not in repr(logs) and "not json" not in repr(logs)
    counted = _push_requests((await client.get("/metrics")).text)
    assert counted == {"401": 1, "413": 1, "400": 1, "202": 1, "422": 1}


async def test_openapi_publishes_the_push_door_contract(client: httpx.AsyncClient) -> None:
    """/openapi.json: POST /events takes the event models (one or an array), bearer auth,
    and documents 202, 422, 401, 400 and 413; /docs serves the page that reads it."""
    out = await client.get("/openapi.json")
    assert out.status_code == 200
    doc = out.json()
    post = doc["paths"]["/events"]["post"]
    assert set(post["responses"]) == {"202", "422", "401", "400", "413"}
    body = post["requestBody"]["content"]["application/json"]["schema"]
    refs = json.dumps(body)
    assert '"#/components/schemas/Event"' in refs and '"type": "array"' in refs
    event = doc["components"]["schemas"]["Event"]
    assert {"event_id", "tenant", "case_id", "sequence", "type", "data"} <= set(event["required"])
    assert "CaseOpenedData" in doc["components"]["schemas"]
    assert post["security"] == [{"pushToken": []}]
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


async def test_metrics_carry_process_python_build_and_push_families(
    client: httpx.AsyncClient,
) -> None:
    """The standard process_* and python_* collectors and stafett_build_info (version)."""
    names = {f.name for f in text_string_to_metric_families((await client.get("/metrics")).text)}
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info"} <= names
    assert "python_gc_collections" in names
    assert "stafett_build_info" in names
    text = (await client.get("/metrics")).text
    assert f'stafett_build_info{{version="{__version__}"}} 1.0' in text
