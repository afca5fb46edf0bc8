"""The per-tenant token cache: caching, renewal, one fetch at a time, refusals."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from adapter.errors import PermanentError, TransientError
from adapter.targets.auth import SamspillCredentials, TokenCache

TOKEN_URL = "https://connect.example/connect/token"
SECRET = "s3cr3t-value-never-shown"
CREDS = SamspillCredentials(
    tenant="modum",
    token_url=TOKEN_URL,
    client_id="stafett-modum",
    client_secret=SecretStr(SECRET),
    tenant_id="6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01",
)


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _issuer(expires_in: int = 3600) -> tuple[list[dict[str, str]], respx.MockRouter]:
    """A router whose token endpoint issues token-1, token-2, … and records the forms."""
    forms: list[dict[str, str]] = []
    router = respx.MockRouter(assert_all_called=True, assert_all_mocked=True)

    def issue(request: httpx.Request) -> httpx.Response:
        forms.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        return httpx.Response(
            200,
            json={
                "access_token": f"token-{len(forms)}",
                "token_type": "Bearer",
                "expires_in": expires_in,
                "scope": "vfsapi:samspill",
            },
        )

    router.post(TOKEN_URL).mock(side_effect=issue)
    return forms, router


async def test_token_request_sends_the_contract_form() -> None:
    """The token request posts grant type, client id and secret, scope and tenant id."""
    forms, router = _issuer()
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            assert await TokenCache(http, CREDS, clock=Clock()).token() == "token-1"
    assert forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "stafett-modum",
            "client_secret": SECRET,
            "scope": "vfsapi:samspill",
            "tenant_id": "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01",
        }
    ]


async def test_token_is_cached_until_the_margin_then_renewed() -> None:
    """A token is reused until expires_in minus 60 s, and renewed after that."""
    forms, router = _issuer(expires_in=3600)
    clock = Clock()
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            cache = TokenCache(http, CREDS, clock=clock)
            assert await cache.token() == "token-1"
            clock.now += 3539
            assert await cache.token() == "token-1"
            clock.now += 1  # 3540 s = 3600 - 60: renew before expiry
            assert await cache.token() == "token-2"
    assert len(forms) == 2


async def test_short_token_margin_is_ten_percent() -> None:
    """A short-lived token is renewed at 90 % of its life (the margin is min(60 s, 10 %))."""
    forms, router = _issuer(expires_in=100)
    clock = Clock()
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            cache = TokenCache(http, CREDS, clock=clock)
            await cache.token()
            clock.now += 89
            assert await cache.token() == "token-1"
            clock.now += 1
            assert await cache.token() == "token-2"
    assert len(forms) == 2


async def test_concurrent_callers_share_one_fetch() -> None:
    """Many concurrent callers on an empty cache cause a single token request."""
    forms, router = _issuer()
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            cache = TokenCache(http, CREDS, clock=Clock())
            tokens = await asyncio.gather(*(cache.token() for _ in range(20)))
    assert set(tokens) == {"token-1"}
    assert len(forms) == 1


async def test_invalidate_forces_a_new_token_but_ignores_a_stale_one() -> None:
    """invalidate(token) drops the current token; an already replaced token is ignored."""
    forms, router = _issuer()
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            cache = TokenCache(http, CREDS, clock=Clock())
            first = await cache.token()
            cache.invalidate(first)
            second = await cache.token()
            cache.invalidate(first)  # someone else's stale 401: keep the fresh token
            assert await cache.token() == second == "token-2"
            cache.invalidate()
            assert await cache.token() == "token-3"
    assert len(forms) == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "invalid_client"), (400, "unauthorized_client"), (400, "invalid_scope")],
)
async def test_refusals_are_permanent_and_never_show_the_secret(status: int, code: str) -> None:
    """A refused token request is a PermanentError naming tenant and code, never the secret."""
    router = respx.MockRouter(assert_all_called=True)
    router.post(TOKEN_URL).respond(status, json={"error": code})
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            with pytest.raises(PermanentError) as caught:
                await TokenCache(http, CREDS, clock=Clock()).token()
    text = str(caught.value)
    assert "modum" in text
    assert code in text
    assert SECRET not in text
    assert SECRET not in repr(CREDS)
    assert caught.value.status == status


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_transient(status: int) -> None:
    """5xx and 429 from the token endpoint are transient (a token request has no effect)."""
    router = respx.MockRouter(assert_all_called=True)
    router.post(TOKEN_URL).respond(status, headers={"Retry-After": "3"})
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            with pytest.raises(TransientError) as caught:
                await TokenCache(http, CREDS, clock=Clock()).token()
    assert "modum" in str(caught.value)
    assert caught.value.status == status


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.ReadError("reset")]
)
async def test_transport_failures_are_transient_not_ambiguous(exc: Exception) -> None:
    """Any transport failure of the token request is a plain TransientError."""
    router = respx.MockRouter(assert_all_called=True)
    router.post(TOKEN_URL).mock(side_effect=exc)
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            with pytest.raises(TransientError) as caught:
                await TokenCache(http, CREDS, clock=Clock()).token()
    assert type(caught.value) is TransientError


async def test_answer_without_token_is_transient() -> None:
    """A 200 without an access token is treated as a transient failure."""
    router = respx.MockRouter(assert_all_called=True)
    router.post(TOKEN_URL).respond(200, json={"token_type": "Bearer"})
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            with pytest.raises(TransientError):
                await TokenCache(http, CREDS, clock=Clock()).token()
