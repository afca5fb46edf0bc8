"""Resync at scale: time and peak RSS of `stafett resync --all` after the mock is wiped.

    .venv/bin/python benchmarks/resync.py [--cases 1000] [--latency-ms 20] [--concurrency N]

A fresh mock in its own process (`stafett mock --latency-ms 20 --rate-limit 0
--no-access-log`), a fresh SQLite store; `cases` synthetic cases of 25 events
(`workload.write_workload`) ingested through the file door and drained by `run --once`;
then `POST /_mock/reset` wipes every remote system and `stafett resync --all --json`
rebuilds it. Reported: wall time and peak RSS of the resync process (measured by a wrapper:
`RUSAGE_CHILDREN` of that one child), the resync's counts, the remote writes it sent, and
the writes of a second resync (expected 0).
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
sys.path.insert(0, str(ROOT))

from workload import write_workload  # noqa: E402 - benchmarks is not a package

from tests.support.remote_state import is_write  # noqa: E402

_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "s = time.perf_counter() - t\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps({'rc': p.returncode, 'seconds': s, 'rss_kb': rss, 'out': p.stdout,"
    " 'err': p.stderr[-2000:]}))\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stafett(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run one CLI command in a measuring wrapper: rc, seconds, its own peak RSS, stdout."""
    cmd = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "adapter"]
    cmd += ["--config", str(ROOT / "config" / "demo.toml"), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"stafett {' '.join(args)} failed: {result['err']}")
    return result


def _writes(url: str) -> int:
    state = httpx.get(f"{url}/_mock/state", timeout=300).json()
    return sum(1 for r in state["requests"] if is_write(r["method"], r["path"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="stafett-resync-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    base = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    mock = subprocess.Popen(
        [
            *(sys.executable, "-m", "adapter", "mock", "--host", "127.0.0.1", "--port", str(port)),
            *("--latency-ms", str(args.latency_ms), "--rate-limit", "0", "--no-access-log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=base,
        cwd=ROOT,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/_mock/faults", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        env = dict(base)
        env.update(
            STAFETT_MOCK_URL=url,
            STAFETT_DATABASE_URL=f"sqlite+aiosqlite:///{work / 'stafett.db'}",
            STAFETT_LOG__LEVEL="WARNING",
        )
        if args.concurrency is not None:
            env["STAFETT_DISPATCH__CONCURRENCY"] = str(args.concurrency)
        events = write_workload(work / "workload.jsonl", args.cases)
        _stafett(env, "ingest", str(work / "workload.jsonl"), "--json")
        drained = _stafett(env, "run", "--once", "--max-wait", "30", "--json")
        first_writes = _writes(url)
        httpx.post(f"{url}/_mock/reset", timeout=60).raise_for_status()
        resync = _stafett(env, "resync", "--all", "--reason", "benchmark: mock wiped", "--json")
        resync_writes = _writes(url)
        again = _stafett(env, "resync", "--all", "--reason", "benchmark: again", "--json")
        again_writes = _writes(url) - resync_writes
        counts = json.loads(resync["out"])
        print(
            json.dumps(
                {
                    "cases": args.cases,
                    "events": events,
                    "latency_ms": args.latency_ms,
                    "initial_drain_s": round(drained["seconds"], 1),
                    "initial_writes": first_writes,
                    "resync_s": round(resync["seconds"], 1),
                    "resync_peak_rss_mb": round(resync["rss_kb"] / 1024, 1),
                    "resync_writes": resync_writes,
                    "resync": {k: v for k, v in counts.items() if k != "reported"},
                    "reported": len(counts["reported"]),
                    "second_resync_s": round(again["seconds"], 1),
                    "second_resync_peak_rss_mb": round(again["rss_kb"] / 1024, 1),
                    "second_resync_writes": again_writes,
                },
                indent=2,
            )
        )
    finally:
        mock.terminate()
        mock.wait(timeout=30)


if __name__ == "__main__":
    main()
