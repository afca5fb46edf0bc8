"""The mock's token endpoint and the bearer check of the Samspill API."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.test_mock_support import MODUM, VARDO, FakeClock, bearer, samspill_token

pytest_plugins = ["tests.conftest_mock"]

PLANTYPES = "/samspill/api/v1/plantypes"


def _form(**changes: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": MODUM.client_id,
        "client_secret": MODUM.client_secret,
        "tenant_id": MODUM.tenant_id,
        "scope": "vfsapi:samspill",
    }
    form.update(changes)
    return form


async def test_token_is_issued_for_a_demo_client(mock_client: httpx.AsyncClient) -> None:
    """A demo client with its secret and tenant gets a bearer token that opens the API."""
    response = await mock_client.post("/connect/token", data=_form())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "vfsapi:samspill"
    api = await mock_client.get(PLANTYPES, headers=bearer(body["access_token"]))
    assert api.status_code == 200


async def test_scope_defaults_to_samspill(mock_client: httpx.AsyncClient) -> None:
    """Without `scope` the token carries `vfsapi:samspill`."""
    form = _form()
    del form["scope"]
    response = await mock_client.post("/connect/token", data=form)
    assert response.json()["scope"] == "vfsapi:samspill"


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "nobody"}, 401, "invalid_client"),
        ({"tenant_id": VARDO.tenant_id}, 400, "unauthorized_client"),
        ({"scope": "vfsapi:skole"}, 400, "invalid_scope"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
async def test_token_errors(
    mock_client: httpx.AsyncClient, changes: dict[str, str], status: int, error: str
) -> None:
    """Wrong secret/client → 401 invalid_client; foreign tenant, scope or grant → 400."""
    response = await mock_client.post("/connect/token", data=_form(**changes))
    assert response.status_code == status
    assert response.json() == {"error": error}


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token"), {"Authorization": "Basic eDp5"}])
async def test_missing_or_unknown_token_is_401_invalid_token(
    mock_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """No bearer token or an unknown one → 401 with the invalid_token challenge."""
    response = await mock_client.get(PLANTYPES, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/problem+json"


async def test_token_expires_after_its_ttl(
    mock_client: httpx.AsyncClient, mock_clock: FakeClock
) -> None:
    """A token works until `expires_in` seconds have passed, then 401 invalid_token."""
    token = await samspill_token(mock_client)
    mock_clock.advance(3599)
    assert (await mock_client.get(PLANTYPES, headers=bearer(token))).status_code == 200
    mock_clock.advance(1)
    expired = await mock_client.get(PLANTYPES, headers=bearer(token))
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_short_ttl_is_configurable(mock_clock: FakeClock) -> None:
    """`token_ttl_s` sets `expires_in` and the real expiry."""
    from adapter.mock import create_app

    app = create_app(token_ttl_s=5, clock=mock_clock, rate_limit=0)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mock"
    ) as client:
        response = await client.post("/connect/token", data=_form())
        assert response.json()["expires_in"] == 5
        mock_clock.advance(5)
        token = response.json()["access_token"]
        assert (await client.get(PLANTYPES, headers=bearer(token))).status_code == 401
