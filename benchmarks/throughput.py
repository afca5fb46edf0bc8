"""Throughput of the engine against the mock at 20 ms latency (run by hand, not in CI).

    .venv/bin/python benchmarks/throughput.py [--cases 200] [--concurrency 1,4,16] [--scales 1,10]

For every (scale, concurrency): a fresh mock in its own process (`stafett mock --latency-ms
20 --rate-limit 0 --no-access-log`), a fresh SQLite store, `cases × scale` synthetic cases
of 25 events, ingested through the file door, planned, and drained by `run --once`, all
inside one driver process whose peak RSS is measured (also at the end of each phase).
Reported: the time of each phase (ingest, plan, dispatch), events/s (ingest to drained),
remote calls/s while dispatching, p95 event-to-applied latency, peak RSS, and the ratio of
the achieved call rate to the floor `concurrency / latency`; for scale, the rate and ratio
the engine's HTTP client alone (`build_client`, no store, its own process) reaches against
the same mock at the same concurrency.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from workload import write_workload  # noqa: E402 - benchmarks is not a package

DRIVER = r"""
import asyncio, json, os, resource, statistics, sys, time
from pathlib import Path
from adapter.settings import load_settings
from adapter.wiring.runtime import Runtime
from adapter.jobs.once import run_once
from adapter.intake.files import ingest_file
from adapter.intake.inbox import Inbox
from adapter.store.states import EventState
from adapter.jobs.plan_step import plan_pending

async def main(path: str) -> None:
    settings = load_settings(Path("config/demo.toml"))
    rt = await Runtime.open(settings)
    t0 = time.perf_counter()
    def peak() -> float:
        # VmHWM: this process image's own high-water mark. ru_maxrss is not: Linux carries
        # it over fork and exec, so it would report the benchmark runner's size instead.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss = {"start": peak()}
    report = await ingest_file(Path(path), inbox=Inbox(rt.store), rules=rt.lookup)
    t1 = time.perf_counter()
    rss["ingest"] = peak()
    await plan_pending(rt.store, rt.rules, rt.lookup)
    tp = time.perf_counter()
    rss["plan"] = peak()
    run = await run_once(rt, max_wait_s=5, poll=False)
    t2 = time.perf_counter()
    rss["dispatch"] = peak()
    from sqlalchemy import and_, func, select
    from adapter.store.tables import events as ev, operations as op
    query = (
        select(ev.c.received_at, func.max(op.c.done_at))
        .join(op, and_(op.c.tenant == ev.c.tenant, op.c.case_id == ev.c.case_id,
                       op.c.cause_sequence == ev.c.sequence))
        .where(op.c.state == "done")
        .group_by(ev.c.id, ev.c.received_at)
    )
    async with rt.store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    lat = [(done - received).total_seconds() for received, done in rows]
    lat.sort()
    p95 = lat[int(len(lat) * 0.95) - 1] if lat else None
    await rt.close()
    print(json.dumps({
        "events": report.lines, "ingest_s": t1 - t0, "plan_s": tp - t1,
        "dispatch_s": t2 - tp,
        "operations_done": run.operations_done, "pending": run.operations_pending,
        "parked_cases": run.parked_cases, "p95_latency_s": p95,
        # the engine's peak: taken before the latency query above loaded a row per event
        "peak_rss_mb": rss["dispatch"],
        "peak_rss_mb_by_phase_end": {k: round(v, 1) for k, v in rss.items()},
    }))

asyncio.run(main(sys.argv[1]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mock(port: int, latency_ms: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/stafett"),
            "mock",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--rate-limit",
            "0",
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/_mock/faults", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the mock did not start")


def _calls(port: int) -> tuple[int, str]:
    """The remote calls the engine made (the feed excluded), and one plan's id."""
    state = httpx.get(f"http://127.0.0.1:{port}/_mock/state", timeout=120).json()
    calls = sum(1 for r in state["requests"] if not r["path"].startswith("/internal/"))
    return calls, str(state["samspill"]["plans"][0]["planId"])


CEILING = r"""
import asyncio, json, sys, time
from adapter.targets.http import build_client

async def main(base: str, plan: str, concurrency: int, n: int) -> None:
    async with build_client(base_url=base, timeout_s=30, ca_bundle=None) as client:
        token = (await client.post("/connect/token", data={
            "grant_type": "client_credentials", "client_id": "stafett-modum",
            "client_secret": "modum-demo-secret", "scope": "vfsapi:samspill",
            "tenant_id": "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01"})).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                got = await client.get(f"/samspill/api/v1/plans/{plan}", headers=headers)
                got.raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        print(json.dumps({"calls_per_s": n / (time.perf_counter() - t0)}))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""
"""The engine's HTTP client (`build_client`) alone in its own process, no store, the same
concurrency and mock: what the client side and the mock allow at all (the floor assumes
both cost nothing)."""


def _client_ceiling(port: int, plan: str, concurrency: int) -> float:
    out = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "-c",
            CEILING,
            f"http://127.0.0.1:{port}",
            plan,
            str(concurrency),
            str(max(200, 100 * concurrency)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["calls_per_s"])


def run_one(cases: int, concurrency: int, latency_ms: int, work: Path) -> dict[str, Any]:
    """One configuration; returns its figures."""
    port = _free_port()
    events_file = work / f"events-{cases}.jsonl"
    if not events_file.exists():
        write_workload(events_file, cases)
    db = work / f"bench-{cases}-{concurrency}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    mock = _mock(port, latency_ms)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
        env.update(
            STAFETT_MOCK_URL=f"http://127.0.0.1:{port}",
            STAFETT_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
            STAFETT_DISPATCH__CONCURRENCY=str(concurrency),
            STAFETT_LOG__LEVEL="WARNING",
        )
        out = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-c", DRIVER, str(events_file)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"driver failed: {out.stderr[-3000:]}")
        figures = dict(json.loads(out.stdout.strip().splitlines()[-1]))
        calls, plan = _calls(port)
        ceiling = _client_ceiling(port, plan, concurrency)
    finally:
        mock.terminate()
        mock.wait(timeout=30)
    floor = concurrency / (latency_ms / 1000)
    rate = calls / figures["dispatch_s"]
    total_s = figures["ingest_s"] + figures["plan_s"] + figures["dispatch_s"]
    figures.update(
        cases=cases,
        concurrency=concurrency,
        remote_calls=calls,
        calls_per_s=round(rate, 1),
        events_per_s=round(figures["events"] / total_s, 1),
        floor_calls_per_s=floor,
        ratio_to_floor=round(rate / floor, 3),
        client_ceiling_calls_per_s=round(ceiling, 1),
        client_ceiling_ratio=round(ceiling / floor, 3),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for scale in (int(s) for s in args.scales.split(",")):
            for conc in (int(c) for c in args.concurrency.split(",")):
                figures = run_one(args.cases * scale, conc, args.latency_ms, Path(tmp))
                print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
