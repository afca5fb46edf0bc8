"""The operators' status page: `GET /status` (HTML) and `GET /status.json`.

Server-rendered with Jinja2, no JavaScript. Never public: only with the operator token
`http.status_token` — as `Authorization: Bearer …`, or through the page's login form,
which sets an HttpOnly, SameSite=Strict session cookie for 8 hours (its end and an HMAC
of it keyed by the token, never the token itself; changing the token ends every session).
Without a configured token the routes do not exist (404).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import SecretStr

from adapter.logs import get_logger, register_secret
from adapter.settings import Settings
from adapter.status.report import collect_report
from adapter.store.store import Store

__all__ = ["COOKIE", "status_router"]

log = get_logger(__name__)

COOKIE = "stafett_status"
"""The session cookie the login form sets."""

_SESSION_HOURS = 8
_FORM_LIMIT = 4096
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_templates = Environment(
    loader=PackageLoader("adapter.status", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _signature(token: SecretStr, ends: int) -> str:
    key = token.get_secret_value().encode()
    return hmac.new(key, f"stafett status session {ends}".encode(), hashlib.sha256).hexdigest()


def _session(token: SecretStr, now: datetime) -> str:
    """A session cookie value: when it ends (Unix seconds) and its signature."""
    ends = int(now.timestamp()) + _SESSION_HOURS * 3600
    return f"{ends}.{_signature(token, ends)}"


def _valid_session(cookie: str, token: SecretStr, now: datetime) -> bool:
    ends, _, signature = cookie.partition(".")
    if not ends.isdigit() or int(ends) <= now.timestamp():
        return False
    return hmac.compare_digest(signature.encode(), _signature(token, int(ends)).encode())


def _authorized(request: Request, token: SecretStr, now: datetime) -> bool:
    """Whether the request carries the operator token (bearer) or a valid session cookie."""
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        presented = header.removeprefix("Bearer ").strip().encode()
        return hmac.compare_digest(presented, token.get_secret_value().encode())
    return _valid_session(request.cookies.get(COOKIE, ""), token, now)


def _html(template: str, status: int, **context: Any) -> HTMLResponse:
    body = _templates.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


async def _form_token(request: Request) -> str:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _FORM_LIMIT:
            return ""
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=4)
    return (fields.get("token") or [""])[0]


def status_router(
    settings: Settings, store: Store, clock: Callable[[], datetime]
) -> APIRouter | None:
    """The status page's routes, or None when no `http.status_token` is configured."""
    token = settings.http.status_token
    if token is None:
        return None
    register_secret(token.get_secret_value())
    router = APIRouter(include_in_schema=False)

    @router.get("/status")
    async def status_page(request: Request) -> Response:
        if not _authorized(request, token, clock()):
            return _html("login.html", 401, failed=False)
        report = await collect_report(settings, store, clock)
        return _html("status.html", 200, report=report)

    @router.get("/status.json")
    async def status_json(request: Request) -> Response:
        if not _authorized(request, token, clock()):
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={**_HEADERS, "WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return JSONResponse(await collect_report(settings, store, clock), headers=_HEADERS)

    @router.post("/status/login")
    async def login(request: Request) -> Response:
        presented = (await _form_token(request)).strip().encode()
        if not hmac.compare_digest(presented, token.get_secret_value().encode()):
            log.warning("status page login refused")
            return _html("login.html", 401, failed=True)
        answer = RedirectResponse("/status", status_code=303, headers=_HEADERS)
        answer.set_cookie(
            COOKIE,
            _session(token, clock()),
            max_age=_SESSION_HOURS * 3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return answer

    @router.post("/status/logout")
    async def logout() -> Response:
        answer = RedirectResponse("/status", status_code=303, headers=_HEADERS)
        answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return answer

    return router
