"""Visma Connect access tokens (OAuth 2.0 client credentials), cached per tenant.

A token is reused until `expires_in` minus a margin (the smaller of 60 s and 10 % of its
life), then renewed; concurrent callers share one fetch. `invalidate` drops a token the API
refused (401), so the next call fetches a fresh one.

A refused token request (401 `invalid_client`, 400 `unauthorized_client` /
`invalid_scope`, any other 4xx) is a configuration problem: PermanentError naming the
tenant and the OAuth error code. 5xx, 429 and transport failures are transient: a token
request has no side effect, so it is never ambiguous.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from adapter.errors import PermanentError, TransientError
from adapter.targets.http import classify, transport_error

__all__ = ["DEFAULT_SCOPE", "SamspillCredentials", "TokenCache"]

DEFAULT_SCOPE = "vfsapi:samspill"

_MARGIN_S = 60.0
_MARGIN_SHARE = 0.1


@dataclass(frozen=True)
class SamspillCredentials:
    """What one tenant needs to get a Samspill token; `tenant` is our key, for messages."""

    tenant: str
    token_url: str
    client_id: str
    client_secret: SecretStr = field(repr=False)
    tenant_id: str
    scope: str = DEFAULT_SCOPE


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float


class TokenCache:
    """The current access token of one tenant; `clock` gives seconds (monotonic by default;
    the runtime passes its own clock, so a fake clock in tests drives renewal too)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: SamspillCredentials,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: _Token | None = None

    @property
    def tenant(self) -> str:
        """Our key of the tenant the tokens are for."""
        return self._credentials.tenant

    async def token(self) -> str:
        """A valid access token: the cached one, or a fresh one (one fetch at a time)."""
        current = self._token
        if current is not None and self._clock() < current.renew_at:
            return current.value
        async with self._lock:
            current = self._token
            if current is not None and self._clock() < current.renew_at:
                return current.value
            self._token = await self._fetch()
            return self._token.value

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, when one is given)."""
        if token is None or (self._token is not None and self._token.value == token):
            self._token = None

    async def _fetch(self) -> _Token:
        creds = self._credentials
        endpoint = httpx.URL(creds.token_url).path
        form = {
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret.get_secret_value(),
            "scope": creds.scope,
            "tenant_id": creds.tenant_id,
        }
        started = self._clock()
        try:
            response = await self._http.post(
                creds.token_url, data=form, headers={"Accept": "application/json"}
            )
        except httpx.TransportError as exc:
            error = transport_error(exc, op_ref=None, endpoint=endpoint, method="POST")
            raise TransientError(
                f"tenant {creds.tenant!r}: token request failed: {error}", endpoint=endpoint
            ) from None
        status = response.status_code
        if 400 <= status < 500 and status not in (408, 429):
            raise PermanentError(
                f"tenant {creds.tenant!r}: token request refused ({status} "
                f"{_oauth_error(response)}); check samspill client_id, client_secret, "
                "tenant_id and scope",
                endpoint=endpoint,
                status=status,
            )
        failure = classify(response, endpoint=endpoint)
        if failure is not None:
            raise TransientError(
                f"tenant {creds.tenant!r}: token request failed: {failure}",
                endpoint=endpoint,
                status=status,
                retry_after=getattr(failure, "retry_after", None),
            )
        return self._read(response, started, endpoint)

    def _read(self, response: httpx.Response, started: float, endpoint: str) -> _Token:
        try:
            body = response.json()
            value = body["access_token"]
            life = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, AttributeError):
            value, life = None, 0.0
        if not isinstance(value, str) or not value or life <= 0:
            raise TransientError(
                f"tenant {self._credentials.tenant!r}: token answer without a usable token",
                endpoint=endpoint,
                status=response.status_code,
            )
        margin = min(_MARGIN_S, life * _MARGIN_SHARE)
        return _Token(value=value, renew_at=started + life - margin)


def _oauth_error(response: httpx.Response) -> str:
    """The OAuth `error` code of a refusal (a short code, never the secret)."""
    try:
        body = response.json()
    except ValueError:
        return "no error code"
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 64:
        return code
    return "no error code"
