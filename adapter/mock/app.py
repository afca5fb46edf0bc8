"""The mock app factory: token, Samspill, Public 360, the internal system and `/_mock`.

Use it in-process (`httpx.ASGITransport(app=create_app())`) or over a socket (`MockServer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from adapter.mock.admin import ArchiveMock, admin_router
from adapter.mock.demo_credentials import DEMO_CLIENTS
from adapter.mock.faults import FaultInjector, FaultMiddleware, Sleep
from adapter.mock.internal import INTERNAL_PREFIX, internal_router
from adapter.mock.p360 import SIF_PREFIX, P360Mock
from adapter.mock.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from adapter.mock.samspill import SAMSPILL_PREFIX, samspill_router
from adapter.mock.samspill_plans import SamspillBook
from adapter.mock.state import ClientRegistrations, MockState
from adapter.mock.token import token_router

__all__ = ["P360_PREFIX", "MockHandles", "MockServer", "create_app"]

P360_PREFIX = SIF_PREFIX


@dataclass(frozen=True)
class MockHandles:
    """The state objects behind one app (`app.state.mock`), for wiring and white-box tests."""

    state: MockState
    book: SamspillBook
    faults: FaultInjector
    archive: ArchiveMock


def _honest_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Error answers of Samspill and the internal system are problem+json: say so."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for path, item in schema.get("paths", {}).items():
            if not path.startswith((SAMSPILL_PREFIX, INTERNAL_PREFIX)):
                continue
            for operation in item.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if code.isdigit() and int(code) >= 400 and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    return openapi


def create_app(
    *,
    latency_ms: int = 0,
    rate_limit: float = 50.0,
    seed: int = 0,
    clock: Callable[[], float] | None = None,
    token_ttl_s: int = 3600,
    register_demo_clients: bool = True,
    sleep: Sleep | None = None,
) -> FastAPI:
    """A fresh, empty mock. `clock` (seconds) drives token expiry and the rate limit;
    `sleep` is awaited for latency and delay faults (tests inject a fake)."""
    now = clock or time.monotonic
    state = MockState(now, DEMO_CLIENTS if register_demo_clients else ClientRegistrations())
    book = SamspillBook(seed)
    faults = FaultInjector(
        clock=now, latency_ms=latency_ms, rate_limit=rate_limit, sleep=sleep or asyncio.sleep
    )
    archive = P360Mock()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        faults.release()

    app = FastAPI(
        title="stafett mock: Visma Connect, Flyt Samspill, Public 360, BTI case system",
        version="1",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(token_router(state, ttl_s=token_ttl_s))
    app.include_router(samspill_router(state, book))
    app.include_router(archive.router(), prefix=P360_PREFIX)
    app.include_router(internal_router(state))
    app.include_router(admin_router(state, book, archive, faults))
    app.add_middleware(FaultMiddleware, injector=faults, state=state)
    app.state.mock = MockHandles(state=state, book=book, faults=faults, archive=archive)
    app.openapi = _honest_openapi(app)  # type: ignore[method-assign]  # FastAPI's documented override
    return app


class MockServer(uvicorn.Server):
    """uvicorn for a mock app; on shutdown it first drops requests held by `timeout` faults."""

    def __init__(
        self,
        app: FastAPI,
        *,
        host: str,
        port: int,
        log_level: str = "info",
        access_log: bool = True,
    ) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level=log_level,
                access_log=access_log,
                log_config=None,  # records go to the root handler: the same redaction
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        handles = app.state.mock
        assert isinstance(handles, MockHandles)
        self._faults = handles.faults

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Stop on a signal; SIGTERM is a requested stop, so the process then exits 0."""
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM:
            # uvicorn re-raises captured signals after shutdown (exit -15); not for SIGTERM.
            with contextlib.suppress(ValueError):
                self._captured_signals.remove(sig)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Release held requests, then uvicorn's graceful shutdown."""
        self._faults.release()
        await super().shutdown(sockets)
