"""Fault rules, latency and the rate limit of the mock, seen by an in-process httpx client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapter.mock import create_app
from tests.unit.test_mock_samspill_support import API, create_plan, plan_body
from tests.unit.test_mock_support import (
    MODUM,
    VARDO,
    FakeClock,
    FakeSleep,
    bearer,
    samspill_token,
)

pytest_plugins = ["tests.conftest_mock"]

ROLES = f"{API}/roles"
SIF_PING = "/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC/SupportService/Ping"


async def _fault(client: httpx.AsyncClient, rule: dict[str, Any] | list[dict[str, Any]]) -> None:
    response = await client.post("/_mock/faults", json=rule)
    assert response.status_code == 200, response.text


async def _state(client: httpx.AsyncClient) -> dict[str, Any]:
    state: dict[str, Any] = (await client.get("/_mock/state")).json()
    return state


@pytest.fixture
async def token(mock_client: httpx.AsyncClient) -> str:
    """A modum token."""
    return await samspill_token(mock_client)


async def test_status_fault_is_a_problem(mock_client: httpx.AsyncClient, token: str) -> None:
    """`{"status": 503}` → 503 problem+json; the log shows 503."""
    await _fault(
        mock_client, {"match": {"method": "GET", "path": "/roles$"}, "action": {"status": 503}}
    )
    response = await mock_client.get(ROLES, headers=bearer(token))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert (await _state(mock_client))["requests"][-1]["status"] == 503


async def test_429_fault_carries_retry_after(mock_client: httpx.AsyncClient, token: str) -> None:
    """`{"status": 429, "retry_after": 2}` → 429 with `Retry-After: 2`."""
    await _fault(
        mock_client, {"match": {"path": "/roles"}, "action": {"status": 429, "retry_after": 2}}
    )
    response = await mock_client.get(ROLES, headers=bearer(token))
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")


async def test_delay_then_normal_answer(
    mock_client: httpx.AsyncClient, mock_sleep: FakeSleep, token: str
) -> None:
    """`{"delay_s": 1.5}` sleeps 1.5 s (the injected sleep) and then answers normally."""
    await _fault(mock_client, {"match": {"path": "/roles"}, "action": {"delay_s": 1.5}})
    response = await mock_client.get(ROLES, headers=bearer(token))
    assert response.status_code == 200
    assert mock_sleep.slept == [1.5]


async def test_timeout_never_answers(mock_client: httpx.AsyncClient, token: str) -> None:
    """`{"timeout": true}`: the request hangs until the caller's own deadline; logged without
    a status."""
    await _fault(mock_client, {"match": {"path": "/roles"}, "action": {"timeout": True}})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await mock_client.get(ROLES, headers=bearer(token))
    assert (await _state(mock_client))["requests"][-1] == {
        "method": "GET",
        "path": ROLES,
        "status": None,
        "body": None,
    }


async def test_timeout_is_released_on_shutdown(mock_app: FastAPI, token: str) -> None:
    """A request held by a timeout fault is dropped (transport error) when the server stops."""
    handles = mock_app.state.mock
    transport = httpx.ASGITransport(app=mock_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        await _fault(client, {"match": {"path": "/roles"}, "action": {"timeout": True}})
        pending = asyncio.ensure_future(client.get(ROLES, headers=bearer(token)))
        await asyncio.sleep(0)  # let the request reach the fault
        handles.faults.release()
        with pytest.raises(httpx.TransportError):
            await pending


async def test_reset_is_a_transport_error(mock_client: httpx.AsyncClient, token: str) -> None:
    """`{"reset": true}` → the client gets an httpx transport error, no response."""
    await _fault(mock_client, {"match": {"path": "/roles"}, "action": {"reset": True}})
    with pytest.raises(httpx.RemoteProtocolError):
        await mock_client.get(ROLES, headers=bearer(token))


async def test_commit_then_fail_stores_the_effect(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """`{"commit_then_fail": 504}`: the client sees 504, yet the plan exists in the state."""
    await _fault(
        mock_client,
        {"match": {"method": "POST", "path": "/plans$"}, "action": {"commit_then_fail": 504}},
    )
    response = await mock_client.post(f"{API}/plans", json=plan_body(), headers=bearer(token))
    assert response.status_code == 504
    state = await _state(mock_client)
    assert [p["externalReference"] for p in state["samspill"]["plans"]] == [
        plan_body()["externalReference"]
    ]
    assert state["requests"][-1]["status"] == 504


async def test_p360_error_is_200_unsuccessful(mock_client: httpx.AsyncClient) -> None:
    """`{"p360_error": "..."}` → HTTP 200 with `Successful: false` and the message."""
    await _fault(
        mock_client, {"match": {"path": "SupportService"}, "action": {"p360_error": "Error: busy"}}
    )
    response = await mock_client.post(
        SIF_PING, json={"parameter": {}}, params={"authkey": MODUM.p360_key}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["Successful"], body["ErrorMessage"]) == (False, "Error: busy")
    assert body["ErrorDetails"]


async def test_expire_token_invalidates_it(mock_client: httpx.AsyncClient, token: str) -> None:
    """`{"expire_token": true}` → 401 invalid_token, and the token stays dead afterwards."""
    await _fault(
        mock_client, {"match": {"path": "/roles"}, "action": {"expire_token": True}, "times": 1}
    )
    first = await mock_client.get(ROLES, headers=bearer(token))
    assert first.status_code == 401
    assert first.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert (await mock_client.get(f"{API}/plantypes", headers=bearer(token))).status_code == 401
    fresh = await samspill_token(mock_client)
    assert (await mock_client.get(ROLES, headers=bearer(fresh))).status_code == 200


async def test_times_limits_the_hits(mock_client: httpx.AsyncClient, token: str) -> None:
    """A rule with `times: 2` fires twice, then requests pass; GET /faults counts the hits."""
    await _fault(mock_client, {"match": {"path": "/roles"}, "action": {"status": 502}, "times": 2})
    statuses = [(await mock_client.get(ROLES, headers=bearer(token))).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    rules = (await mock_client.get("/_mock/faults")).json()["rules"]
    assert (rules[0]["hits"], rules[0]["matched"]) == (2, 2)


async def test_method_and_path_must_both_match(mock_client: httpx.AsyncClient, token: str) -> None:
    """A POST rule leaves GETs alone; a path rule leaves other paths alone."""
    await _fault(
        mock_client, {"match": {"method": "POST", "path": "/plans"}, "action": {"status": 503}}
    )
    assert (await mock_client.get(f"{API}/plans", headers=bearer(token))).status_code == 200
    assert (await mock_client.get(ROLES, headers=bearer(token))).status_code == 200
    post = await mock_client.post(f"{API}/plans", json=plan_body(), headers=bearer(token))
    assert post.status_code == 503


async def test_admin_paths_are_never_faulted(mock_client: httpx.AsyncClient) -> None:
    """A rule matching everything does not touch `/_mock`."""
    await _fault(mock_client, {"match": {"path": ""}, "action": {"status": 503}})
    assert (await mock_client.get("/_mock/state")).status_code == 200


async def test_a_list_of_rules_and_clearing(mock_client: httpx.AsyncClient, token: str) -> None:
    """Several rules install at once (the first that fires wins); DELETE clears them."""
    await _fault(
        mock_client,
        [
            {"match": {"path": "/roles"}, "action": {"status": 503}},
            {"match": {"path": ""}, "action": {"status": 500}},
        ],
    )
    assert (await mock_client.get(ROLES, headers=bearer(token))).status_code == 503
    assert (await mock_client.get(f"{API}/plans", headers=bearer(token))).status_code == 500
    assert (await mock_client.delete("/_mock/faults")).status_code == 204
    assert (await mock_client.get(ROLES, headers=bearer(token))).status_code == 200


async def test_bad_rule_is_422(mock_client: httpx.AsyncClient) -> None:
    """An unknown action or a probability above 1 is refused."""
    bad = await mock_client.post("/_mock/faults", json={"action": {"explode": True}})
    assert bad.status_code == 422
    odd = await mock_client.post(
        "/_mock/faults", json={"action": {"status": 503}, "probability": 1.5}
    )
    assert odd.status_code == 422


async def test_a_rule_with_a_bad_regex_is_422_naming_the_field(
    mock_client: httpx.AsyncClient,
) -> None:
    """`"path": "("` is the caller's mistake: 422 problem+json at match.path, nothing added."""
    bad = await mock_client.post(
        "/_mock/faults", json={"match": {"path": "("}, "action": {"status": 503}}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in bad.json()["errors"]]
    assert any(f.endswith("match.path") for f in fields), fields
    assert "not a valid regular expression" in bad.text
    assert (await mock_client.get("/_mock/faults")).json()["rules"] == []


async def _outcomes(seed: int) -> list[int]:
    app = create_app(rate_limit=0, clock=FakeClock(), sleep=FakeSleep())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = await samspill_token(c)
        await _fault(
            c,
            {
                "match": {"path": "/roles"},
                "action": {"status": 503},
                "probability": 0.5,
                "seed": seed,
            },
        )
        return [(await c.get(ROLES, headers=bearer(token))).status_code for _ in range(24)]


async def test_probability_is_deterministic_by_seed() -> None:
    """The same seed gives the same sequence of faults; both outcomes occur at p=0.5."""
    first, again, other = await _outcomes(7), await _outcomes(7), await _outcomes(8)
    assert first == again
    assert {200, 503} == set(first)
    assert first != other


@pytest.fixture
async def limited() -> AsyncIterator[tuple[httpx.AsyncClient, FakeClock]]:
    """A mock limited to 2 requests/s per client, with a fake clock."""
    clock = FakeClock()
    app = create_app(rate_limit=2, clock=clock, sleep=FakeSleep())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        yield c, clock


async def test_rate_limit_per_client(limited: tuple[httpx.AsyncClient, FakeClock]) -> None:
    """Past N requests/s a client gets 429 with Retry-After; another client (another
    tenant's) is not affected; after waiting the client passes again."""
    client, clock = limited
    token = await samspill_token(client)
    other = await samspill_token(client, VARDO)
    statuses = [(await client.get(ROLES, headers=bearer(token))).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited_response = await client.get(ROLES, headers=bearer(token))
    assert int(limited_response.headers["Retry-After"]) >= 1
    assert (await client.get(ROLES, headers=bearer(other))).status_code == 200
    clock.advance(1)
    assert (await client.get(ROLES, headers=bearer(token))).status_code == 200


async def test_a_new_token_of_the_same_client_gets_no_fresh_bucket(
    limited: tuple[httpx.AsyncClient, FakeClock],
) -> None:
    """The limit is the client's: a second token of the limited client is limited too."""
    client, _clock = limited
    first = await samspill_token(client)
    second = await samspill_token(client)
    assert [(await client.get(ROLES, headers=bearer(first))).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert (await client.get(ROLES, headers=bearer(second))).status_code == 429


async def test_sif_keys_are_limited_each_by_itself(
    limited: tuple[httpx.AsyncClient, FakeClock],
) -> None:
    """A SIF authkey is a client: header and query forms share its bucket; another key
    passes."""
    client, _clock = limited
    body = {"parameter": {}}
    modum = {"authkey": MODUM.p360_key}
    assert (await client.post(SIF_PING, headers=modum, json=body)).status_code == 200
    assert (await client.post(SIF_PING, params=modum, json=body)).status_code == 200
    assert (await client.post(SIF_PING, headers=modum, json=body)).status_code == 429
    vardo = {"authkey": VARDO.p360_key}
    assert (await client.post(SIF_PING, headers=vardo, json=body)).status_code == 200


async def test_latency_applies_to_every_non_admin_request() -> None:
    """`latency_ms` sleeps before each API request, never before admin calls."""
    sleep = FakeSleep()
    app = create_app(latency_ms=250, rate_limit=0, clock=FakeClock(), sleep=sleep)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = await samspill_token(c)
        await create_plan(c, token)
        await c.get("/_mock/state")
    assert sleep.slept == [0.25, 0.25]
