"""The operators' status page on a real store: never public, per tenant and target what
waits and what is stuck, remote error texts with nins masked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from adapter.errors import ConfigError
from adapter.metrics import Metrics
from adapter.settings import Settings, load_settings
from adapter.status import COOKIE
from adapter.store import Store
from adapter.web import create_web_app
from tests.integration.conftest import T0, FakeClock
from tests.support.outbox import goal_operation

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "operator-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NIN = "14831651238"  # Tenor synthetic


def _settings(**env: str) -> Settings:
    return load_settings(ROOT / "config" / "demo.toml", environ=env)


def _client(settings: Settings, store: Store, clock: FakeClock) -> httpx.AsyncClient:
    app = create_web_app(
        settings=settings,
        store=store,
        rules=settings.tenants.get,
        metrics=Metrics(),
        clock=clock,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://stafett")


@pytest.fixture
async def client(store: Store, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """The adapter's app with an operator token configured."""
    async with _client(_settings(STAFETT_HTTP__STATUS_TOKEN=TOKEN), store, clock) as c:
        yield c


async def _seed(store: Store, clock: FakeClock) -> None:
    """modum: C1 done (a call at T0), C2 parked after a 400 naming a nin; vardo: C3 in
    flight since T0; modum's feed polled at T0 + 60 s; now T0 + 120 s."""
    await store.outbox.add_operations(
        [goal_operation("C1"), goal_operation("C2"), goal_operation("C3", tenant="vardo")]
    )
    by_case = {op.case_id: op for op in await store.outbox.claim_operations("w1", clock.now)}
    assert await store.outbox.complete_operation(by_case["C1"].id, "w1", clock.now, status=201)
    error = f"RemoteRejected: HTTP 400 — Ugyldig fødselsnummer {NIN} i feltet"
    assert await store.outbox.park_operation(
        by_case["C2"].id, "w1", clock.now, error=error, status=400
    )
    clock.advance(60)
    await store.status.record_poll("modum", "feed", ok=True)
    clock.advance(60)


async def test_without_a_configured_token_the_page_does_not_exist(
    store: Store, clock: FakeClock
) -> None:
    """No `http.status_token`: /status, /status.json and the login are 404, even with a
    bearer header; /readyz is still about this process only."""
    async with _client(_settings(), store, clock) as c:
        assert (await c.get("/status")).status_code == 404
        assert (await c.get("/status.json", headers=BEARER)).status_code == 404
        assert (await c.post("/status/login", data={"token": TOKEN})).status_code == 404
        assert (await c.get("/readyz")).json() == {"status": "ready"}


async def test_the_page_is_never_public(client: httpx.AsyncClient, store: Store) -> None:
    """Without the token: the HTML answer is the sign-in form (401, no data), the JSON
    answer 401; a wrong bearer token is refused the same way."""
    await store.outbox.add_operations([goal_operation("SECRETCASE")])
    page = await client.get("/status")
    assert page.status_code == 401
    assert '<form method="post" action="/status/login">' in page.text
    assert "SECRETCASE" not in page.text
    assert (await client.get("/status.json")).status_code == 401
    wrong = {"Authorization": "Bearer operator-token-for-test"}
    assert (await client.get("/status.json", headers=wrong)).status_code == 401
    assert (await client.get("/status", headers=wrong)).status_code == 401
    assert page.headers["cache-control"] == "no-store"


async def test_status_json_per_tenant_and_target(
    client: httpx.AsyncClient, store: Store, clock: FakeClock
) -> None:
    """Backlog, oldest pending, parked (reason with the nin masked), last call, last error
    class and last poll, per tenant and target."""
    await _seed(store, clock)
    out = await client.get("/status.json", headers=BEARER)
    assert out.status_code == 200
    report = out.json()
    modum, vardo = report["tenants"]["modum"], report["tenants"]["vardo"]
    assert modum["last_poll"] == (T0 + timedelta(seconds=60)).isoformat()
    assert vardo["last_poll"] is None
    assert modum["targets"]["samspill"] == {
        "backlog": 0,
        "oldest_pending_seconds": None,
        "parked": 1,
        "last_call": T0.isoformat(),
        "last_error": {"class": "RemoteRejected", "status": 400, "at": T0.isoformat()},
    }
    assert vardo["targets"]["samspill"]["backlog"] == 1
    assert vardo["targets"]["samspill"]["oldest_pending_seconds"] == 120
    assert vardo["targets"]["p360"]["last_call"] is None
    [parked] = modum["parked"]
    assert (parked["case_id"], parked["target"], parked["kind"]) == (
        "C2",
        "samspill",
        "create-goal",
    )
    assert (
        parked["reason"] == "RemoteRejected: HTTP 400 — Ugyldig fødselsnummer *********** i feltet"
    )
    assert NIN not in out.text
    assert (modum["held_events"], modum["deadlines_over"]) == (0, [])


async def test_sign_in_sets_an_httponly_session_cookie_that_shows_the_page(
    client: httpx.AsyncClient, store: Store, clock: FakeClock
) -> None:
    """The login form: a wrong token is 401 again; the right one redirects with an
    HttpOnly, SameSite=Strict cookie that is not the token, and the page then renders the
    parked case with its masked reason."""
    await _seed(store, clock)
    wrong = await client.post("/status/login", data={"token": "not-the-token-at-all"})
    assert wrong.status_code == 401 and "not the operator token" in wrong.text
    signed_in = await client.post("/status/login", data={"token": TOKEN})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/status"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = await client.get("/status")
    assert page.status_code == 200
    assert "C2" in page.text and "Ugyldig fødselsnummer ***********" in page.text
    assert NIN not in page.text and "<script" not in page.text


async def test_a_session_ends_after_eight_hours(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The session cookie carries its end: after 8 hours the page asks to sign in again;
    a cookie whose end was edited is refused."""
    assert (await client.post("/status/login", data={"token": TOKEN})).status_code == 303
    assert (await client.get("/status")).status_code == 200
    value = client.cookies[COOKIE]
    ends, _, signature = value.partition(".")
    client.cookies.set(COOKIE, f"{int(ends) + 3600}.{signature}")
    assert (await client.get("/status")).status_code == 401
    client.cookies.set(COOKIE, value)
    clock.advance(8 * 3600 + 1)
    assert (await client.get("/status")).status_code == 401


def test_a_short_status_token_is_a_config_error() -> None:
    """A guessable operator token is refused when the settings load."""
    with pytest.raises(ConfigError, match="status_token must be at least 16 characters"):
        _settings(STAFETT_HTTP__STATUS_TOKEN="short")
