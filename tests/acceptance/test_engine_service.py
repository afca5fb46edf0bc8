"""`stafett run` (the service) as a subprocess against the mock on a socket.

It must answer `/healthz` and `/readyz`, take a push of the Modum example on
`POST /events` with the demo push token, drain it to the mock on its own schedule, expose
`/metrics`, and stop cleanly on SIGTERM with exit code 0. Real time is unavoidable here
(another process); every wait is a bounded poll, and the scheduler ticks every second.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.engine import DEMO_CONFIG, ROOT, example_events, people_of, plan_of

M = "stafett:modum:BTI-2026-0042"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(check: Callable[[], Any], *, timeout_s: float, what: str) -> Any:
    """Poll `check` until it returns something truthy (connection errors count as no)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def service(tmp_path: Path, mock_server: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`stafett run` on a free port against `mock_server`; killed if a test leaves it up."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env.update(
        STAFETT_MOCK_URL=mock_server,
        STAFETT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'service.db'}",
        STAFETT_HTTP__PORT=str(port),
        STAFETT_SCHEDULER__POLL_INTERVAL_S="1",
        STAFETT_SCHEDULER__PLAN_INTERVAL_S="1",
        STAFETT_SCHEDULER__DISPATCH_INTERVAL_S="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapter", "--config", str(DEMO_CONFIG), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def test_service_serves_health_push_metrics_and_stops_on_sigterm(
    service: tuple[subprocess.Popen[str], str], mock_server: str
) -> None:
    """Health and readiness, a push drained to the mock, metrics, then exit 0 on SIGTERM."""
    proc, url = service
    health = _until(
        lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200,
        timeout_s=30,
        what="/healthz",
    )
    assert health
    ready = httpx.get(f"{url}/readyz", timeout=5)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})

    events = example_events("modum")
    refused = httpx.post(f"{url}/events", json=events, timeout=10)
    assert refused.status_code == 401  # no token, no intake
    pushed = httpx.post(
        f"{url}/events",
        json=events,
        headers={"Authorization": "Bearer modum-push-demo-token"},
        timeout=30,
    )
    assert pushed.status_code == 202, pushed.text
    assert len(pushed.json()["results"]) == len(events)

    def closed_plan() -> dict[str, Any] | None:
        state = httpx.get(f"{mock_server}/_mock/state", timeout=10).json()
        plans = [
            p
            for p in state["samspill"]["plans"]
            if p["externalReference"] == f"{M}:plan:stafettlogg"
        ]
        done = plans and plans[0]["status"] == "closed" and len(state["p360"]["documents"]) == 5
        return dict(state) if done else None

    state = _until(closed_plan, timeout_s=90, what="the pushed case to reach the mock")
    plan = plan_of(state, f"{M}:plan:stafettlogg")
    assert (plan["closedReason"], plan["planLead"]["name"]) == ("goals-achieved", "Siri Bakke")
    assert len(plan["goals"]) == 2

    metrics = httpx.get(f"{url}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert "stafett_operations" in metrics.text
    planned = {
        (sample.labels["tenant"], sample.labels["state"]): sample.value
        for family in text_string_to_metric_families(metrics.text)
        if family.name == "stafett_events"
        for sample in family.samples
    }
    assert planned[("modum", "planned")] == len(events)

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {"service started", "push received", "service stopped"} <= {
        r.get("event") for r in logged
    }
    nins, names = people_of(events)
    assert not [p for p in nins | names if p in out + err]
