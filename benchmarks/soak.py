"""Soak under faults: replicas on PostgreSQL, SIGKILLs, 503s, commit-then-fail, connection
resets and a slow document server; the remote state must equal an undisturbed run's.

    .venv/bin/python benchmarks/soak.py [--cases 120] [--minutes 15] [--replicas 3]
        [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Run by hand (not in CI). What it does:
1. A workload of `cases` synthetic Modum cases (benchmarks/workload.py, 25 events each)
   plus one `meeting.held` per case whose minutes are a `document_ref` to a local document
   server that drips its answer (one byte every 2 s, far past `http.call_deadline_s`) for
   a share of the fetches and serves the PDF at once otherwise.
2. `stafett mock` in its own process with fault rules: 503 on a share of Samspill and SIF
   writes, commit-then-fail (504 after the effect) on a share, connection resets on a share.
3. `replicas` × `stafett run` on a fresh PostgreSQL database, the events arriving through
   the feed in three waves while one replica is SIGKILLed (and restarted) every 15–45 s.
4. After `minutes`, the faults are cleared, the replicas stopped with SIGTERM (the time each
   took is reported), and `stafett run --once` drains what is left.
5. The same events against a fresh mock, no faults, one `run --once` on SQLite.
6. Both remote states are normalised (tests/support/remote_state.py) and compared; items
   made twice are listed. One JSON object is printed; exit 0 only when the states are
   equal and nothing was made twice.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from workload import EVENTS_PER_CASE, case_events  # noqa: E402

from tests.support.mock_process import free_port  # noqa: E402 - after the path set-up
from tests.support.remote_state import duplicates, is_write, normalize  # noqa: E402

PDF = (ROOT / "examples" / "minutes" / "minutes-plain.pdf").read_bytes()
PDF_SHA = hashlib.sha256(PDF).hexdigest()
SAMSPILL = "/samspill/api/v1/.*"
SIF_WRITE = "/Biz/v2/api/call/.*/(Create|Update|Synchronize).*"


class _DocumentServer:
    """Serves the minutes; while `dripping`, a share of answers drip one byte every 2 s."""

    def __init__(self, drip_share: float, seed: int) -> None:
        self.dripping = True
        self.rng = random.Random(seed)
        self.drip_share = drip_share
        self.served = 0
        self.dripped = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                drip = owner.dripping and owner.rng.random() < owner.drip_share
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(PDF)))
                self.end_headers()
                if not drip:
                    owner.served += 1
                    self.wfile.write(PDF)
                    return
                owner.dripped += 1
                try:
                    for byte in PDF[:60]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(2)
                except OSError:
                    return  # the adapter gave up on it: what should happen

            def log_message(self, *_args: Any) -> None:
                return

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()


def _events(cases: int, doc_origin: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for index in range(cases):
        events = case_events(index, rng)
        last = events[-1]
        held = {
            **last,
            "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"soak/{last['case_id']}/minutes")),
            "sequence": EVENTS_PER_CASE + 1,
            "type": "meeting.held",
            "data": {
                "meeting_id": "M1",
                "minutes": {
                    "document_ref": f"{doc_origin}/documents/{last['case_id']}.pdf",
                    "filename": "referat.pdf",
                    "media_type": "application/pdf",
                    "sha256": PDF_SHA,
                    "title": "Referat nettverksmøte",
                },
            },
        }
        out.extend([*events, held])
    return out


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env.update(extra)
    return env


def _mock(port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "adapter", "mock", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--latency-ms", "20", "--rate-limit", "0", "--no-access-log"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/_mock/state", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the mock did not start")


def _faults(url: str, seed: int) -> None:
    rules = [
        {"match": {"method": "POST", "path": SAMSPILL}, "action": {"status": 503}},
        {"match": {"method": "POST", "path": SIF_WRITE}, "action": {"status": 503}},
        {"match": {"method": "POST", "path": SAMSPILL}, "action": {"commit_then_fail": 504}},
        {"match": {"method": "POST", "path": SIF_WRITE}, "action": {"commit_then_fail": 504}},
        {"match": {"method": "POST", "path": SAMSPILL}, "action": {"reset": True}},
    ]
    shares = [0.15, 0.15, 0.08, 0.08, 0.04]
    body = [
        {**rule, "times": None, "probability": share, "seed": seed + n}
        for n, (rule, share) in enumerate(zip(rules, shares, strict=True))
    ]
    httpx.post(f"{url}/_mock/faults", json=body, timeout=10).raise_for_status()


def _feed(url: str, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 500):
        httpx.post(
            f"{url}/_mock/internal/events", json=events[start : start + 500], timeout=60
        ).raise_for_status()


_DB_NAME = f"stafett_soak_{os.getpid()}"


async def _database(base: str, *, create: bool) -> str:
    """Drop (and with `create`, make anew) this run's database next to `base`'s."""
    import asyncpg  # the postgres extra

    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{_DB_NAME}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{_DB_NAME}"')
    finally:
        await conn.close()
    return base.rsplit("/", 1)[0] + f"/{_DB_NAME}"


def _cli(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "adapter", "--config", "config/demo.toml", *args]
    return subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _adapter_env(mock_url: str, db_url: str, doc_origin: str) -> dict[str, str]:
    origins = json.dumps([mock_url, doc_origin])
    return _env(
        STAFETT_MOCK_URL=mock_url,
        STAFETT_DATABASE_URL=db_url,
        STAFETT_TENANTS__MODUM__FEED__DOCUMENT_ORIGINS=origins,
        STAFETT_HTTP__CALL_DEADLINE_S="5",
        STAFETT_DISPATCH__LEASE_SECONDS="10",
        STAFETT_DISPATCH__HEARTBEAT_SECONDS="2",
        STAFETT_SCHEDULER__POLL_INTERVAL_S="2",
        STAFETT_SCHEDULER__PLAN_INTERVAL_S="1",
        STAFETT_SCHEDULER__DISPATCH_INTERVAL_S="1",
        STAFETT_LOG__FORMAT="json",
    )


class _Replicas:
    """`stafett run` processes, each on its own port, killed and restarted at random."""

    def __init__(self, env: dict[str, str], count: int, logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports = [free_port() for _ in range(count)]
        self.kills = 0
        for n in range(count):
            self.procs.append(self._start(n))

    def _start(self, n: int) -> subprocess.Popen[bytes]:
        out = (self.logs / f"replica-{n}.log").open("ab")
        env = {**self.env, "STAFETT_HTTP__PORT": str(self.ports[n])}
        cmd = [sys.executable, "-m", "adapter", "--config", "config/demo.toml", "run"]
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out)

    def kill_one(self, rng: random.Random) -> None:
        n = rng.randrange(len(self.procs))
        self.procs[n].send_signal(signal.SIGKILL)
        self.procs[n].wait()
        self.kills += 1
        time.sleep(rng.uniform(1, 3))
        self.procs[n] = self._start(n)

    def stop(self) -> list[float]:
        """SIGTERM each; the seconds each took to exit (a kill after 60 s counts as 60)."""
        took: list[float] = []
        for proc in self.procs:
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            took.append(round(time.monotonic() - started, 1))
        return took


def _state(url: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{url}/_mock/state", timeout=120).json()
    return state


def _disturbed(
    args: argparse.Namespace, events: list[dict[str, Any]], docs: _DocumentServer, work: Path
) -> dict[str, Any]:
    docs.dripping = True
    mock_port = free_port()
    mock = _mock(mock_port)
    url = f"http://127.0.0.1:{mock_port}"
    try:
        db_url = asyncio.run(_database(args.pg, create=True))
        env = _adapter_env(url, db_url, docs.origin)
        upgraded = _cli(env, "db", "upgrade")
        if upgraded.returncode != 0:
            raise SystemExit(f"db upgrade failed: {upgraded.stderr.strip()}")
        _faults(url, args.seed)
        waves = [events[i::3] for i in range(3)]  # every wave holds part of every case
        waves = [sorted(w, key=lambda e: (e["case_id"], e["sequence"])) for w in waves]
        _feed(url, sorted(waves[0], key=lambda e: (e["case_id"], e["sequence"])))
        replicas = _Replicas(env, args.replicas, work)
        rng = random.Random(args.seed)
        started = time.monotonic()
        end = started + args.minutes * 60
        fed = 1
        while time.monotonic() < end:
            time.sleep(rng.uniform(15, 45))
            if fed < 3 and time.monotonic() > started + fed * (end - started) / 4:
                _feed(url, waves[fed])
                fed += 1
            if time.monotonic() < end:
                replicas.kill_one(rng)
        for wave in waves[fed:]:
            _feed(url, wave)
        soak_s = round(time.monotonic() - started, 1)
        httpx.delete(f"{url}/_mock/faults", timeout=10)
        docs.dripping = False
        stop_s = replicas.stop()
        drain = _cli(env, "run", "--once", "--max-wait", "300", "--json", timeout=1800)
        state = _state(url)
        writes = [r for r in state["requests"] if is_write(r["method"], r["path"])]
        return {
            "writes": len(writes),
            "writes_answered_5xx": sum(1 for r in writes if r["status"] >= 500),
            "soak_s": soak_s,
            "kills": replicas.kills,
            "sigterm_exit_s": stop_s,
            "drain_exit": drain.returncode,
            "drain": json.loads(drain.stdout or "{}"),
            "documents_dripped": docs.dripped,
            "requests": len(state["requests"]),
            "faulted_5xx": sum(1 for r in state["requests"] if r["status"] >= 500),
            "state": state,
        }
    finally:
        mock.terminate()
        mock.wait()
        asyncio.run(_database(args.pg, create=False))


def _undisturbed(events: list[dict[str, Any]], docs: _DocumentServer, work: Path) -> dict[str, Any]:
    docs.dripping = False
    mock_port = free_port()
    mock = _mock(mock_port)
    url = f"http://127.0.0.1:{mock_port}"
    try:
        db = work / "undisturbed.db"
        env = _adapter_env(url, f"sqlite+aiosqlite:///{db}", docs.origin)
        _feed(url, events)
        done = _cli(env, "run", "--once", "--max-wait", "120", "--json", timeout=3600)
        return {"exit": done.returncode, "state": _state(url)}
    finally:
        mock.terminate()
        mock.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "STAFETT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stafett-soak-") as tmp:
        work = Path(tmp)
        docs = _DocumentServer(drip_share=0.3, seed=args.seed)
        try:
            events = _events(args.cases, docs.origin, args.seed)
            calm = _undisturbed(events, docs, work)
            rough = _disturbed(args, events, docs, work)
        finally:
            docs.close()
        a, b = normalize(calm["state"]), normalize(rough["state"])
        report = {
            "cases": args.cases,
            "events": len(events),
            "replicas": args.replicas,
            **{k: v for k, v in rough.items() if k != "state"},
            "undisturbed_exit": calm["exit"],
            "plans": len(a["plans"]),
            "archive_cases": len(a["cases"]),
            "archive_documents": len(a["documents"]),
            "equal": a == b,
            "differing_plans": sorted(k for k in a["plans"] if a["plans"][k] != b["plans"].get(k)),
            "documents_missing": len(a["documents"]) - len(b["documents"]),
            "duplicates": duplicates(rough["state"]),
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
        sys.exit(0 if report["equal"] and not report["duplicates"] else 1)


if __name__ == "__main__":
    main()
