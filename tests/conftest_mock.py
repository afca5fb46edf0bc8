"""Pytest plugin: the mock server in-process and over a socket, and token helpers.

Enable with `pytest_plugins = ["tests.conftest_mock"]` (tests/conftest.py).
Fixtures: `mock_clock`, `mock_sleep`, `mock_app`, `mock_client`, `mock_server`; the
helpers (demo tenants, `samspill_token`, `bearer`) are in `tests.unit.test_mock_support`.
Test modules must not import this module (pytest could not rewrite its asserts).
The fixture app has the rate limit off; tests of the limit build their own app.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from adapter.mock import MockServer, create_app
from tests.unit.test_mock_support import FakeClock, FakeSleep

__all__ = ["mock_app", "mock_client", "mock_clock", "mock_server", "mock_sleep"]


@pytest.fixture
def mock_clock() -> FakeClock:
    """The clock of `mock_app` (token expiry, rate limit)."""
    return FakeClock()


@pytest.fixture
def mock_sleep() -> FakeSleep:
    """The sleep of `mock_app` (latency and delay faults)."""
    return FakeSleep()


@pytest.fixture
def mock_app(mock_clock: FakeClock, mock_sleep: FakeSleep) -> FastAPI:
    """A fresh mock with the demo clients, a fake clock and sleep, no rate limit."""
    return create_app(rate_limit=0, clock=mock_clock, sleep=mock_sleep)


@pytest.fixture
async def mock_client(mock_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to `mock_app` in-process."""
    transport = httpx.ASGITransport(app=mock_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client


@pytest.fixture
def mock_server() -> Iterator[str]:
    """A fresh mock (no rate limit) served by uvicorn on 127.0.0.1; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # clients queue here until uvicorn accepts: no start-up wait needed
    port = sock.getsockname()[1]
    server = MockServer(create_app(rate_limit=0), host="127.0.0.1", port=port, log_level="error")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
