"""The mock over a real socket: the API works, and faults look to httpx as they would live."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.unit.test_mock_samspill_support import API, plan_body
from tests.unit.test_mock_support import MODUM, bearer

pytest_plugins = ["tests.conftest_mock"]

ROLES = f"{API}/roles"


def _token(client: httpx.Client) -> str:
    response = client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": MODUM.client_id,
            "client_secret": MODUM.client_secret,
            "tenant_id": MODUM.tenant_id,
        },
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def _fault(client: httpx.Client, rule: dict[str, Any]) -> None:
    assert client.post("/_mock/faults", json=rule).status_code == 200


def test_plan_round_trip_over_a_socket(mock_server: str) -> None:
    """Token, create plan and read it back over HTTP; the state dump shows it."""
    with httpx.Client(base_url=mock_server, timeout=5) as client:
        token = _token(client)
        created = client.post(f"{API}/plans", json=plan_body(), headers=bearer(token))
        assert created.status_code == 201
        plan = client.get(f"{API}/plans/{created.json()['planId']}", headers=bearer(token))
        assert client.get("/_mock/state").json()["samspill"]["plans"] == [plan.json()]


def test_timeout_fault_trips_the_client_timeout(mock_server: str) -> None:
    """`{"timeout": true}` → httpx.ReadTimeout at the client's read timeout."""
    with httpx.Client(base_url=mock_server, timeout=5) as client:
        token = _token(client)
        _fault(client, {"match": {"path": "/roles"}, "action": {"timeout": True}})
        with pytest.raises(httpx.ReadTimeout):
            client.get(ROLES, headers=bearer(token), timeout=httpx.Timeout(5, read=0.2))


def test_reset_fault_drops_the_connection(mock_server: str) -> None:
    """`{"reset": true}` → the connection closes mid-response: httpx.RemoteProtocolError."""
    with httpx.Client(base_url=mock_server, timeout=5) as client:
        token = _token(client)
        _fault(client, {"match": {"path": "/roles"}, "action": {"reset": True}, "times": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(ROLES, headers=bearer(token))
        assert client.get(ROLES, headers=bearer(token)).status_code == 200


def test_delay_fault_delays_then_answers(mock_server: str) -> None:
    """`{"delay_s": 0.3}` → the normal answer, no sooner than 0.3 s."""
    with httpx.Client(base_url=mock_server, timeout=5) as client:
        token = _token(client)
        _fault(client, {"match": {"path": "/roles"}, "action": {"delay_s": 0.3}})
        started = time.monotonic()
        response = client.get(ROLES, headers=bearer(token))
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.3


def test_429_fault_over_a_socket(mock_server: str) -> None:
    """`{"status": 429, "retry_after": 3}` → 429 with `Retry-After: 3`."""
    with httpx.Client(base_url=mock_server, timeout=5) as client:
        token = _token(client)
        _fault(client, {"match": {"path": "/roles"}, "action": {"status": 429, "retry_after": 3}})
        response = client.get(ROLES, headers=bearer(token))
        assert (response.status_code, response.headers["Retry-After"]) == (429, "3")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_cli_serves_and_stops_cleanly_on_sigterm() -> None:
    """`stafett mock` serves the demo clients until SIGTERM, then exits 0."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env["STAFETT_MOCK_PORT"] = str(port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapter", "mock", "--host", "127.0.0.1"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # uvicorn announces readiness on stderr
            if "Uvicorn running on" in line:
                break
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            _token(client)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
