"""`stafett ingest`, `status` and `events rejected` as an operator runs them (subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "events"
NIN = re.compile(r"(?<!\d)\d{11}(?!\d)")


def _stafett(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env["STAFETT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'stafett.db'}"
    return subprocess.run(
        [sys.executable, "-m", "adapter", "--config", str(ROOT / "config" / "demo.toml"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def test_ingest_of_examples_exits_zero_and_twice_adds_nothing(tmp_path: Path) -> None:
    """Valid files exit 0; the second ingest reports every line as a duplicate."""
    first = _stafett(tmp_path, "ingest", str(EXAMPLES / "modum.jsonl"), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["accepted"] == 57
    again = _stafett(tmp_path, "ingest", str(EXAMPLES / "modum.jsonl"), "--json")
    assert json.loads(again.stdout) == {
        "accepted": 0,
        "duplicate": 57,
        "rejected": 0,
        "rejections": [],
    }


def test_ingest_of_bad_lines_exits_two_and_lists_them_without_nins(tmp_path: Path) -> None:
    """bad.jsonl exits 2; `events rejected --json` lists every line; no nin in any output."""
    _stafett(tmp_path, "ingest", str(EXAMPLES / "modum.jsonl"))
    bad = _stafett(tmp_path, "ingest", str(EXAMPLES / "bad.jsonl"), "--json")
    assert bad.returncode == 2
    report = json.loads(bad.stdout)
    assert report["rejected"] == 14
    assert all(r["field"] and r["line"] for r in report["rejections"])
    table = _stafett(tmp_path, "ingest", str(EXAMPLES / "bad.jsonl"))
    assert table.returncode == 2
    listed = _stafett(tmp_path, "events", "rejected", "--json")
    assert listed.returncode == 0
    assert len(json.loads(listed.stdout)["events"]) == 14
    for out in (bad, table, listed):
        assert not NIN.search(out.stdout + out.stderr)


def test_ids_holding_a_name_or_nin_are_never_printed(tmp_path: Path) -> None:
    """`ingest --json`, `events rejected` and `events rejected --json` show none of the name
    or nin a sender put where the event_id, tenant, case_id or type belong."""
    first = json.loads((EXAMPLES / "modum.jsonl").read_text(encoding="utf-8").splitlines()[0])
    lines = [
        {**first, "event_id": "Emma Haugen 14831651238", "tenant": "Emma Haugen"},
        {**first, "case_id": "14831651238", "type": "Emma Haugen"},
    ]
    batch = tmp_path / "leaky.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    ingested = _stafett(tmp_path, "ingest", str(batch), "--json")
    assert ingested.returncode == 2
    table = _stafett(tmp_path, "events", "rejected")
    listed = _stafett(tmp_path, "events", "rejected", "--json")
    assert len(json.loads(listed.stdout)["events"]) == 2
    for out in (ingested, table, listed):
        shown = out.stdout + out.stderr
        assert "Emma" not in shown and "Haugen" not in shown
        assert not NIN.search(shown) and "148316" not in shown


def test_status_json_counts_events_by_state(tmp_path: Path) -> None:
    """`status --json` has the contract's keys and counts what was ingested."""
    _stafett(tmp_path, "ingest", str(EXAMPLES / "vardo.jsonl"))
    out = _stafett(tmp_path, "status", "--json")
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert {"events", "operations", "parked_cases", "tenants"} <= status.keys()
    assert status["events"]["accepted"] == 23
    assert status["tenants"]["vardo"]["events"]["accepted"] == 23


def test_missing_file_is_bad_usage(tmp_path: Path) -> None:
    """A file that does not exist exits 2 with one line on stderr, no traceback."""
    out = _stafett(tmp_path, "ingest", str(tmp_path / "nope.jsonl"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_events_rejected_shows_at_most_limit_and_counts_the_rest(tmp_path: Path) -> None:
    """`--limit` bounds the list; what it leaves out is counted, never silently dropped."""
    _stafett(tmp_path, "ingest", str(EXAMPLES / "bad.jsonl"))
    listed = _stafett(tmp_path, "events", "rejected", "--json", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    out = json.loads(listed.stdout)
    assert (len(out["events"]), out["more"]) == (5, 9)
    table = _stafett(tmp_path, "events", "rejected", "--limit", "5")
    assert "and 9 more rejected events" in table.stdout
    everything = json.loads(_stafett(tmp_path, "events", "rejected", "--json").stdout)
    assert (len(everything["events"]), "more" in everything) == (14, False)
