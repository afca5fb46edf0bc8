"""`stafett demo`: the whole flow against the mock, in one process, from the example streams.

The mock runs in-process; the example events are put on its internal feed, so the demo
goes through the feed door like the service does, then plans and dispatches until
drained, and returns what exists remotely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapter.jobs.once import RunOnceReport, run_once
from adapter.settings import Settings
from adapter.wiring.runtime import Runtime

__all__ = ["DemoResult", "load_examples", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """What the demo did and what the remote systems hold afterwards."""

    run: RunOnceReport
    remote: dict[str, Any]


def load_examples(directory: Path) -> list[dict[str, Any]]:
    """The events of every `*.jsonl` in `directory` except `bad.jsonl`, in file order."""
    events: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        if path.name == "bad.jsonl":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                events.append(json.loads(line))
    return events


async def run_demo(settings: Settings, examples: Path, *, max_wait_s: float = 120.0) -> DemoResult:
    """Start the mock in-process, feed it the examples, run until drained, read its state."""
    from adapter.mock import create_app  # the mock is a demo and test tool, not the service

    mock = create_app(rate_limit=0)
    transport = httpx.ASGITransport(app=mock)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as admin:
        seeded = await admin.post("/_mock/internal/events", json=load_examples(examples))
        seeded.raise_for_status()
        rt = await Runtime.open(settings, transport=transport)
        try:
            report = await run_once(rt, max_wait_s=max_wait_s)
        finally:
            await rt.close()
        state = (await admin.get("/_mock/state")).json()
    return DemoResult(run=report, remote=state)
