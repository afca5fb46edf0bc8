"""Fault injection, base latency, rate limiting and the request log: one ASGI middleware.

It wraps every path except `/_mock`. Order per request: base latency, rate limit (429),
the first fault rule that fires, then the app; the request is logged last, with the status
the client got (None when it got none).

What a client sees for the connection-level actions:

- `{"timeout": true}`: nothing, until the client's own timeout fires. Over a socket that is
  httpx's `ReadTimeout`. In-process (`httpx.ASGITransport`) httpx enforces no timeout, so
  the caller bounds the call itself (e.g. `asyncio.timeout`); the request hangs until then.
  On server shutdown the hanging requests are released and dropped.
- `{"reset": true}`: the status line goes out, then the connection is dropped before the
  body. Over a socket uvicorn closes the transport and httpx raises `RemoteProtocolError`.
  In-process the app raises `MockConnectionReset`, itself an `httpx.RemoteProtocolError`,
  which `ASGITransport` (with its default `raise_app_exceptions=True`) hands to the caller.
  Either way `except httpx.TransportError` catches it.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapter.mock.problems import problem_response
from adapter.mock.state import Clock, MockState, RequestLogEntry, redact_base64
from adapter.mock.token import INVALID_TOKEN_CHALLENGE

__all__ = [
    "ADMIN_PREFIX",
    "CommitThenFail",
    "Delay",
    "ExpireToken",
    "FaultAction",
    "FaultInjector",
    "FaultMatch",
    "FaultMiddleware",
    "FaultRule",
    "InstalledRule",
    "MockConnectionReset",
    "P360Error",
    "RateLimiter",
    "Reset",
    "Sleep",
    "StatusFault",
    "Timeout",
]

ADMIN_PREFIX = "/_mock"

Sleep = Callable[[float], Awaitable[None]]

_RULE = ConfigDict(frozen=True, extra="forbid")


class MockConnectionReset(httpx.RemoteProtocolError):
    """Raised by the app to drop the connection (see the module docstring)."""


class FaultMatch(BaseModel):
    """Which requests a rule applies to: a method (any if absent), a regex searched in the path."""

    model_config = _RULE

    method: str | None = None
    path: str = ""

    @field_validator("path")
    @classmethod
    def _a_regex(cls, value: str) -> str:
        # Checked here, so that a bad pattern is the caller's 422, not the mock's 500.
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc.msg})") from None
        return value


class StatusFault(BaseModel):
    """Answer with `status` (a problem document); `retry_after` seconds for a 429."""

    model_config = _RULE

    status: int = Field(ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)


class Delay(BaseModel):
    """Wait, then serve the request normally."""

    model_config = _RULE

    delay_s: float = Field(ge=0)


class Timeout(BaseModel):
    """Never answer (until the client gives up or the server stops)."""

    model_config = _RULE

    timeout: Literal[True]


class Reset(BaseModel):
    """Drop the connection without a complete response."""

    model_config = _RULE

    reset: Literal[True]


class CommitThenFail(BaseModel):
    """Serve the request (its effect is stored), then answer with this status instead."""

    model_config = _RULE

    commit_then_fail: int = Field(ge=400, le=599)


class P360Error(BaseModel):
    """HTTP 200 with a SIF business error (`Successful: false`)."""

    model_config = _RULE

    p360_error: str


class ExpireToken(BaseModel):
    """Invalidate the presented bearer token, then answer 401 invalid_token."""

    model_config = _RULE

    expire_token: Literal[True]


FaultAction = StatusFault | Delay | Timeout | Reset | CommitThenFail | P360Error | ExpireToken


class FaultRule(BaseModel):
    """One rule; `times` caps how often it fires, `probability` is drawn from `seed`."""

    model_config = _RULE

    match: FaultMatch = FaultMatch()
    action: FaultAction
    times: int | None = Field(default=None, ge=0)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    seed: int = 0


@dataclass
class InstalledRule:
    """A rule with its own random stream and counters."""

    rule: FaultRule
    pattern: re.Pattern[str]
    rng: random.Random
    matched: int = 0
    hits: int = 0

    @classmethod
    def install(cls, rule: FaultRule) -> InstalledRule:
        """Compile the rule's pattern and seed its random stream."""
        return cls(rule, re.compile(rule.match.path), random.Random(rule.seed))  # noqa: S311

    def matches(self, method: str, path: str) -> bool:
        """Whether the request is one the rule applies to."""
        want = self.rule.match.method
        return (want is None or want.upper() == method.upper()) and bool(self.pattern.search(path))

    def fires(self) -> bool:
        """Draw for a matching request; counts the hit when it fires."""
        if self.rule.times is not None and self.hits >= self.rule.times:
            return False
        self.matched += 1
        if self.rng.random() < self.rule.probability:
            self.hits += 1
            return True
        return False

    def dump(self) -> dict[str, Any]:
        """The rule as installed, with its counters."""
        return {**self.rule.model_dump(mode="json"), "matched": self.matched, "hits": self.hits}


@dataclass
class RateLimiter:
    """A token bucket per client: `rate` requests per second, bursts up to `rate`; 0 = off."""

    rate: float
    clock: Clock
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def retry_after(self, client: str) -> int | None:
        """None when the request may pass (and takes a token); else seconds to wait."""
        if self.rate <= 0:
            return None
        now = self.clock()
        capacity = max(1.0, self.rate)
        tokens, last = self._buckets.get(client, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            return None
        self._buckets[client] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def reset(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()


class FaultInjector:
    """The installed rules, base latency, rate limit, and the release of hanging requests."""

    def __init__(
        self, *, clock: Clock, latency_ms: int = 0, rate_limit: float = 0.0, sleep: Sleep
    ) -> None:
        self.latency_s = latency_ms / 1000
        self.limiter = RateLimiter(rate_limit, clock)
        self.sleep = sleep
        self.rules: list[InstalledRule] = []
        self._released: asyncio.Event | None = None

    @property
    def released(self) -> asyncio.Event:
        """Set on shutdown: requests held by a `timeout` fault are then dropped."""
        if self._released is None:
            self._released = asyncio.Event()
        return self._released

    def release(self) -> None:
        """Let go of every request a `timeout` fault holds (server shutdown)."""
        self.released.set()

    def install(self, rules: list[FaultRule]) -> None:
        """Add rules after those already installed."""
        self.rules += [InstalledRule.install(r) for r in rules]

    def clear(self) -> None:
        """Remove every rule and rate-limit bucket."""
        self.rules.clear()
        self.limiter.reset()

    def pick(self, method: str, path: str) -> FaultAction | None:
        """The action of the first matching rule that fires, if any."""
        for installed in self.rules:
            if installed.matches(method, path) and installed.fires():
                return installed.rule.action
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _client_key(scope: Scope, state: MockState) -> str:
    """Who is rate limited: the client behind the credentials, else the peer address.

    A Samspill bearer token counts for its client (a fresh token is no fresh bucket), a
    feed api key for itself, a SIF authkey (header, `Authorization: authkey`, or query)
    for itself; anything else (the token endpoint, unknown credentials) for the peer.
    """
    auth = _header(scope, b"authorization")
    if auth:
        scheme, _, credential = auth.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer":
            grant = state.tokens.get(credential)  # an expired token still names its client
            if grant is not None:
                return f"samspill {grant.client_id}"
            if credential in state.feed_keys:
                return f"feed {credential}"
        elif scheme.lower() == "authkey" and credential:
            return f"p360 {credential}"
    authkey = _header(scope, b"authkey")
    if authkey:
        return f"p360 {authkey}"
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    if "authkey" in query:
        return f"p360 {query['authkey'][0]}"
    client = scope.get("client")
    return f"peer {client[0]}" if client else "peer ?"


def _logged_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return redact_base64(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return None  # form bodies (the token call) carry secrets: not logged


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class FaultMiddleware:
    """The ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, *, injector: FaultInjector, state: MockState) -> None:
        self.app = app
        self.injector = injector
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status: int | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._serve(scope, replay, observed_send, receive)
        finally:
            self.state.log_request(
                RequestLogEntry(
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    body=_logged_body(body),
                )
            )

    async def _serve(self, scope: Scope, receive: Receive, send: Send, raw: Receive) -> None:
        injector = self.injector
        if injector.latency_s > 0:
            await injector.sleep(injector.latency_s)
        wait = injector.limiter.retry_after(_client_key(scope, self.state))
        if wait is not None:
            response = problem_response(
                429, "rate-limited", "Too many requests.", headers={"Retry-After": str(wait)}
            )
            await response(scope, receive, send)
            return
        action = injector.pick(scope["method"], scope["path"])
        if action is None:
            await self.app(scope, receive, send)
        elif isinstance(action, StatusFault):
            retry = action.retry_after
            if retry is None and action.status == 429:
                retry = 1
            headers = {"Retry-After": str(retry)} if retry is not None else None
            await problem_response(
                action.status, "mock-fault", "Injected by a fault rule.", headers=headers
            )(scope, receive, send)
        elif isinstance(action, Delay):
            await injector.sleep(action.delay_s)
            await self.app(scope, receive, send)
        elif isinstance(action, Timeout):
            await self._hang(raw)
            raise MockConnectionReset("the mock dropped a request held by a timeout fault")
        elif isinstance(action, Reset):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise MockConnectionReset("the mock reset the connection (fault rule)")
        elif isinstance(action, CommitThenFail):
            await self.app(scope, receive, _discard)
            await problem_response(
                action.commit_then_fail, "mock-fault", "Injected after the request took effect."
            )(scope, receive, send)
        elif isinstance(action, P360Error):
            await JSONResponse(
                {
                    "Successful": False,
                    "ErrorMessage": action.p360_error,
                    "ErrorDetails": "Injected by a fault rule of the mock.",
                }
            )(scope, receive, send)
        else:
            self._expire_token(scope)
            await problem_response(
                401,
                "invalid-token",
                "The token has expired.",
                headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
            )(scope, receive, send)

    async def _hang(self, raw: Receive) -> None:
        """Until the server releases held requests or the client goes away."""

        async def disconnected() -> None:
            while (await raw())["type"] != "http.disconnect":
                pass

        waiters = [
            asyncio.ensure_future(self.injector.released.wait()),
            asyncio.ensure_future(disconnected()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _expire_token(self, scope: Scope) -> None:
        auth = _header(scope, b"authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            self.state.tokens.pop(token.strip(), None)


async def _discard(_message: Message) -> None:
    """A `send` that throws the real answer away (commit-then-fail)."""
