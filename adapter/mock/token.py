"""The Visma Connect token endpoint (client credentials) and the bearer check of the APIs."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from adapter.mock.demo_credentials import SAMSPILL_SCOPE
from adapter.mock.problems import ProblemError
from adapter.mock.state import MockState, TokenGrant

__all__ = [
    "INVALID_TOKEN_CHALLENGE",
    "OAuthError",
    "TokenResponse",
    "bearer_grant",
    "token_router",
]

INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105 - a header, not a secret

_bearer = HTTPBearer(auto_error=False, description="An access token of /connect/token.")


class TokenResponse(BaseModel):
    """A successful token answer."""

    model_config = ConfigDict(frozen=True)

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token kind, not a secret
    expires_in: int
    scope: str


class OAuthError(BaseModel):
    """An OAuth 2.0 error answer (RFC 6749 §5.2)."""

    model_config = ConfigDict(frozen=True)

    error: str


_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "client_id", "client_secret", "tenant_id"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "scope": {"type": "string"},
                        "tenant_id": {"type": "string"},
                    },
                }
            }
        },
    }
}


def _oauth_error(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


def token_router(state: MockState, *, ttl_s: int) -> APIRouter:
    """`POST /connect/token`: issues opaque tokens bound to client, tenant and expiry."""
    router = APIRouter(tags=["token"])

    @router.post(
        "/connect/token",
        response_model=TokenResponse,
        responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
        openapi_extra=_FORM_SCHEMA,
    )
    async def issue_token(request: Request) -> TokenResponse | JSONResponse:
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type")
        client = state.samspill_clients.get(form.get("client_id", ""))
        secret = form.get("client_secret", "")
        if client is None or not hmac.compare_digest(
            secret.encode(), client.client_secret.get_secret_value().encode()
        ):
            return _oauth_error(401, "invalid_client")
        if form.get("tenant_id") != client.tenant_id:
            return _oauth_error(400, "unauthorized_client")
        scopes = tuple(form.get("scope", SAMSPILL_SCOPE).split())
        if not scopes or not set(scopes) <= set(client.scopes):
            return _oauth_error(400, "invalid_scope")
        token = secrets.token_urlsafe(32)
        state.tokens[token] = TokenGrant(
            client_id=client.client_id,
            tenant_id=client.tenant_id,
            organization_number=client.organization_number,
            scopes=scopes,
            expires_at=state.clock() + ttl_s,
        )
        return TokenResponse(access_token=token, expires_in=ttl_s, scope=" ".join(scopes))

    return router


def _invalid_token(detail: str) -> ProblemError:
    return ProblemError(
        401, "invalid-token", detail, headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
    )


def bearer_grant(state: MockState) -> Callable[..., Awaitable[TokenGrant]]:
    """A dependency: the live grant of the request's bearer token, or 401 invalid_token."""

    async def dependency(  # async: a sync dependency would cost a worker-thread hop
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> TokenGrant:
        if credentials is None:
            raise _invalid_token("A bearer token is required.")
        grant = state.grant_for(credentials.credentials)
        if grant is None:
            raise _invalid_token("The token is unknown or expired.")
        if SAMSPILL_SCOPE not in grant.scopes:
            raise _invalid_token("The token lacks the Samspill scope.")
        return grant

    return dependency
