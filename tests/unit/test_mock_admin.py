"""The mock's admin routes: state dump, request log, reset, clients, drift."""

from __future__ import annotations

import base64
import hashlib

import httpx

from tests.unit.test_mock_samspill_support import API, add, create_plan, goal_body, plan_body
from tests.unit.test_mock_support import MODUM, bearer, samspill_token

pytest_plugins = ["tests.conftest_mock"]

SIF_PING = "/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC/SupportService/Ping"


async def test_state_shows_plans_exactly_as_get_plan(mock_client: httpx.AsyncClient) -> None:
    """`samspill.plans` holds each plan exactly as GET /plans/{id} answers it."""
    token = await samspill_token(mock_client)
    plan_id = await create_plan(mock_client, token)
    await add(mock_client, token, plan_id, "goals", goal_body())
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    state = (await mock_client.get("/_mock/state")).json()
    assert set(state) == {"samspill", "p360", "internal", "requests"}
    assert state["samspill"]["plans"] == [plan]
    assert set(state["p360"]) >= {"cases", "documents", "persons"}
    assert state["internal"] == {"events": 0, "documents": 0}


async def test_request_log_replaces_base64_with_sha256(mock_client: httpx.AsyncClient) -> None:
    """Each non-admin request is logged with method, path, status and its JSON body, every
    `Base64Data` (at any depth) replaced by the sha256 of its bytes; admin calls are not logged."""
    data = b"minutes"
    body = {
        "parameter": {
            "Files": [{"Title": "Referat", "Base64Data": base64.b64encode(data).decode()}]
        }
    }
    await mock_client.post(SIF_PING, json=body, params={"authkey": MODUM.p360_key})
    await mock_client.get(f"{API}/roles")
    await mock_client.get("/_mock/faults")
    requests = (await mock_client.get("/_mock/state")).json()["requests"]
    digest = hashlib.sha256(data).hexdigest()
    assert requests == [
        {
            "method": "POST",
            "path": SIF_PING,
            "status": 200,
            "body": {"parameter": {"Files": [{"Title": "Referat", "Base64Data": digest}]}},
        },
        {"method": "GET", "path": f"{API}/roles", "status": 401, "body": None},
    ]


async def test_token_form_is_not_logged(mock_client: httpx.AsyncClient) -> None:
    """The token call is logged without its form body (it holds the secret)."""
    await samspill_token(mock_client)
    requests = (await mock_client.get("/_mock/state")).json()["requests"]
    assert requests == [{"method": "POST", "path": "/connect/token", "status": 200, "body": None}]
    assert MODUM.client_secret not in str(requests)


async def test_reset_empties_state_and_keeps_demo_clients(mock_client: httpx.AsyncClient) -> None:
    """After reset: no plans, events, faults or log; the demo clients still get tokens and
    the p360 demo key still works; clients added later are gone."""
    token = await samspill_token(mock_client)
    await create_plan(mock_client, token)
    await mock_client.post("/_mock/internal/events", json=[{"tenant": "modum"}])
    await mock_client.post(
        "/_mock/faults", json={"match": {"path": "nothing"}, "action": {"status": 503}}
    )
    await mock_client.post(
        "/_mock/clients", json={"feed": [{"api_key": "extra", "tenant": "modum"}]}
    )
    assert (await mock_client.post("/_mock/reset")).status_code == 204
    state = (await mock_client.get("/_mock/state")).json()
    assert state["samspill"]["plans"] == []
    assert state["internal"] == {"events": 0, "documents": 0}
    assert state["requests"] == []
    assert (await mock_client.get("/_mock/faults")).json() == {"rules": []}
    assert await samspill_token(mock_client)
    ping = await mock_client.post(
        SIF_PING, json={"parameter": {}}, params={"authkey": MODUM.p360_key}
    )
    assert ping.json()["Successful"] is True
    feed = await mock_client.get("/internal/v1/events", headers=bearer("extra"))
    assert feed.status_code == 401


async def test_clients_can_be_registered(mock_client: httpx.AsyncClient) -> None:
    """POST /_mock/clients adds a Samspill client, a SIF key and a feed key that then work."""
    regs = {
        "samspill": [
            {
                "client_id": "test-client",
                "client_secret": "test-secret",
                "tenant_id": "00000000-0000-4000-8000-000000000001",
                "organization_number": "974760673",
                "scopes": ["vfsapi:samspill"],
            }
        ],
        "p360": [{"authkey": "test-key", "clientid": None}],
        "feed": [{"api_key": "test-feed", "tenant": "test"}],
    }
    assert (await mock_client.post("/_mock/clients", json=regs)).status_code == 204
    token = await mock_client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "test-client",
            "client_secret": "test-secret",
            "tenant_id": "00000000-0000-4000-8000-000000000001",
        },
    )
    assert token.status_code == 200
    ping = await mock_client.post(SIF_PING, json={"parameter": {}}, params={"authkey": "test-key"})
    assert ping.json()["Successful"] is True
    feed = await mock_client.get("/internal/v1/events", headers=bearer("test-feed"))
    assert feed.status_code == 200


async def test_client_registration_is_strict(mock_client: httpx.AsyncClient) -> None:
    """Unknown keys in the registration body → 422."""
    response = await mock_client.post("/_mock/clients", json={"oauth": []})
    assert response.status_code == 422


async def test_drift_changes_and_removes_behind_the_clients_back(
    mock_client: httpx.AsyncClient,
) -> None:
    """Admin PATCH/DELETE change or remove items and plans, visible through the API."""
    token = await samspill_token(mock_client)
    plan_id = await create_plan(mock_client, token)
    goal = await add(mock_client, token, plan_id, "goals", goal_body())
    base = f"/_mock/samspill/plans/{plan_id}"
    changed = await mock_client.patch(f"{base}/goals/{goal}", json={"title": "Endret"})
    assert changed.json()["title"] == "Endret"
    assert (
        await mock_client.patch(f"{base}/goals/{goal}", json={"status": "bad"})
    ).status_code == 422
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    assert plan["goals"][0]["title"] == "Endret"
    closed = await mock_client.patch(base, json={"status": "closed", "closedReason": "other"})
    assert closed.json()["status"] == "closed"
    participant = plan["participants"][0]["id"]
    assert (await mock_client.delete(f"{base}/participants/{participant}")).status_code == 204
    assert (await mock_client.delete(f"{base}/nonsense/{goal}")).status_code == 404
    assert (await mock_client.delete(base)).status_code == 204
    gone = await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))
    assert gone.status_code == 404


async def test_ack_only_creates_answer_202_without_an_id_and_still_create(
    mock_client: httpx.AsyncClient,
) -> None:
    """While ack-only is on, a plan or item create answers `202 {"status": "accepted"}` and
    the item exists (findable by its externalReference); off again, creates answer 201."""
    token = await samspill_token(mock_client)
    on = await mock_client.put("/_mock/samspill/ack-only", json={"enabled": True})
    assert on.status_code == 200
    body = plan_body()
    created = await mock_client.post(f"{API}/plans", json=body, headers=bearer(token))
    assert (created.status_code, created.json()) == (202, {"status": "accepted"})
    found = await mock_client.get(
        f"{API}/plans",
        params={"externalReference": body["externalReference"]},
        headers=bearer(token),
    )
    [plan] = found.json()["items"]
    goal = await mock_client.post(
        f"{API}/plans/{plan['planId']}/goals", json=goal_body(), headers=bearer(token)
    )
    assert (goal.status_code, goal.json()) == (202, {"status": "accepted"})
    state = (await mock_client.get("/_mock/state")).json()
    assert len(state["samspill"]["plans"][0]["goals"]) == 1
    await mock_client.put("/_mock/samspill/ack-only", json={"enabled": False})
    assert await add(mock_client, token, plan["planId"], "goals", goal_body(title="Nytt mål"))


async def test_reset_turns_ack_only_off(mock_client: httpx.AsyncClient) -> None:
    """A reset brings back the ordinary 201 answers."""
    await mock_client.put("/_mock/samspill/ack-only", json={"enabled": True})
    await mock_client.post("/_mock/reset")
    token = await samspill_token(mock_client)
    assert await create_plan(mock_client, token)
