"""`stafett mock` as a subprocess on a free port, and the CLI run against it (acceptance)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.remote_state import is_write

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "demo.toml"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env.update(extra)
    return env


@contextmanager
def mock_process(*args: str) -> Iterator[str]:
    """Start `stafett mock` on a free port; yields its base URL; stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adapter",
            "mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env({}),
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_mock/faults", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("stafett mock did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stafett(
    url: str, db: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `stafett --config config/demo.toml ARGS` against the mock at `url` and store `db`."""
    return subprocess.run(
        [sys.executable, "-m", "adapter", "--config", str(CONFIG), *args],
        capture_output=True,
        text=True,
        env=_env({"STAFETT_MOCK_URL": url, "STAFETT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}),
        cwd=ROOT,
        check=False,
        timeout=timeout,
    )


def stafett_json(url: str, db: Path, *args: str) -> dict[str, Any]:
    """`stafett ARGS --json`, asserted to exit 0; its JSON object."""
    done = stafett(url, db, *args, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def state(url: str) -> dict[str, Any]:
    """The mock's whole state."""
    return dict(httpx.get(f"{url}/_mock/state", timeout=30).json())


def writes(url: str) -> int:
    """How many write requests (contract definition) the mock has answered so far."""
    return sum(1 for r in state(url)["requests"] if is_write(r["method"], r["path"]))
