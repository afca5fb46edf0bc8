"""SIGKILL the adapter at random points and restart it: the remote state ends up identical.

The mock runs in this process over a socket (with a little latency, so kills land in the
middle of remote calls); the adapter runs as `stafett run --once` in a subprocess that is
killed ten times at random moments, then run to completion. The result is compared with
an undisturbed run against a fresh mock: same items, none twice, none missing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.cli.demo import load_examples
from adapter.mock import MockServer, create_app
from tests.support.remote_state import duplicates, is_write, normalize

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10

pytestmark = pytest.mark.slow


def _serve_mock(latency_ms: int) -> tuple[MockServer, threading.Thread, socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = MockServer(
        create_app(rate_limit=0, latency_ms=latency_ms),
        host="127.0.0.1",
        port=port,
        log_level="error",
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    return server, thread, sock, f"http://127.0.0.1:{port}"


@pytest.fixture
def mock_url() -> Iterator[str]:
    """A mock with 60 ms latency on a real socket, seeded with the example events: with one
    operation at a time the work outlasts several kills (each run does about a second)."""
    server, thread, sock, url = _serve_mock(latency_ms=60)
    try:
        httpx.post(f"{url}/_mock/internal/events", json=load_examples(ROOT / "examples/events"))
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _adapter(url: str, db: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env.update(
        STAFETT_MOCK_URL=url,
        STAFETT_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        STAFETT_DISPATCH__CONCURRENCY="1",
        STAFETT_DISPATCH__LEASE_SECONDS="2",
        STAFETT_DISPATCH__HEARTBEAT_SECONDS="0.5",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adapter",
            "--config",
            str(ROOT / "config" / "demo.toml"),
            "run",
            "--once",
            "--max-wait",
            "5",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _finish(url: str, db: Path) -> dict[str, Any]:
    proc = _adapter(url, db)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    return dict(json.loads(out))


def _state(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/_mock/state", timeout=30).json())


def _writes(url: str) -> int:
    """How many write requests the mock has answered (the contract's definition of a write).

    Only a progress gauge: an update, close or delete cut off by a kill is sent again,
    which is safe (they set fixed values); creates are never repeated (`duplicates`).
    """
    return sum(1 for r in _state(url)["requests"] if is_write(r["method"], r["path"]))


def test_kill_and_restart_ten_times_converges_to_the_undisturbed_state(
    tmp_path: Path, mock_url: str
) -> None:
    """Ten SIGKILLs at random moments: the same remote state as a clean run, nothing twice."""
    server, thread, sock, clean_url = _serve_mock(latency_ms=0)
    try:
        httpx.post(
            f"{clean_url}/_mock/internal/events", json=load_examples(ROOT / "examples/events")
        )
        _finish(clean_url, tmp_path / "clean.db")
        clean = _state(clean_url)
        all_writes = _writes(clean_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert clean["samspill"]["plans"], (
        "the undisturbed run created nothing: the test proves nothing"
    )

    rng = random.Random(20261122)
    db = tmp_path / "chaos.db"
    interrupted = 0
    for _ in range(KILLS):
        proc = _adapter(mock_url, db)
        time.sleep(rng.uniform(0.8, 2.5))  # start-up takes about a second: then the work
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)  # reap it and close its pipes
        interrupted += _writes(mock_url) < all_writes
    time.sleep(2.5)  # let the killed runs' leases (2 s) expire
    report = _finish(mock_url, db)
    assert report["operations_pending"] == 0
    assert report["parked_cases"] == 0
    chaos = _state(mock_url)

    assert interrupted >= 3, f"only {interrupted} kills landed before the work was done"
    assert duplicates(chaos) == []
    assert normalize(chaos) == normalize(clean)
