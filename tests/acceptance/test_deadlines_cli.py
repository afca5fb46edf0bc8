"""`stafett deadlines` as an operator runs it (subprocess) over a store the planner filled."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapter.jobs.plan_step import plan_pending
from adapter.store import open_store
from adapter.wiring.rules import planning_rules
from tests.support.stored_events import DEMO_CONFIG, demo_settings, store_events
from tests.unit.planning.factory import with_plan

ROOT = Path(__file__).resolve().parents[2]
NIN = re.compile(r"(?<!\d)\d{11}(?!\d)")


def _stafett(db: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env["STAFETT_DATABASE_URL"] = db
    return subprocess.run(
        [sys.executable, "-m", "adapter", "--config", str(DEMO_CONFIG), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=120,
    )


async def _fill(db: str) -> None:
    settings = demo_settings(db)
    late = with_plan("modum", case_id="BTI-LATE")
    late.decision("continue", at="2026-03-03T10:00:00+01:00")  # deadline 2026-03-31
    late.meeting("M1", "2026-04-02T09:00:00+02:00")
    missing = with_plan("vardo", case_id="BS-MISSING")
    missing.decision("refer", at="2026-03-03T10:00:00+01:00")  # deadline 2026-04-14
    met = with_plan("modum", case_id="BTI-MET")
    met.decision("continue", at="2026-03-03T10:00:00+01:00")
    met.meeting("M1", "2026-03-31T09:00:00+02:00")
    async with await open_store(db) as store:
        for stream in (late, missing, met):
            await store_events(store, settings, stream.events)
        rules = {key: planning_rules(t) for key, t in settings.tenants.items()}
        await plan_pending(store, rules, lambda key: settings.tenants.get(key))


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite store holding one late, one missing and one met follow-up meeting."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stafett.db'}"
    asyncio.run(_fill(url))
    return url


def test_json_lists_late_and_missing_meetings_with_days_over(db: str, tmp_path: Path) -> None:
    """--json --today gives the contract's object; --tenant narrows it; no nin anywhere."""
    out = _stafett(db, tmp_path, "deadlines", "--json", "--today", "2026-04-16")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "cases": [
            {
                "tenant": "modum",
                "case_id": "BTI-LATE",
                "deadline": "2026-03-31",
                "next_meeting_at": "2026-04-02T09:00:00+02:00",
                "days_over": 16,
            },
            {
                "tenant": "vardo",
                "case_id": "BS-MISSING",
                "deadline": "2026-04-14",
                "next_meeting_at": None,
                "days_over": 2,
            },
        ]
    }
    vardo = _stafett(
        db, tmp_path, "deadlines", "--json", "--tenant", "vardo", "--today", "2026-04-16"
    )
    assert [c["case_id"] for c in json.loads(vardo.stdout)["cases"]] == ["BS-MISSING"]
    table = _stafett(db, tmp_path, "deadlines", "--today", "2026-04-16")
    assert table.returncode == 0, table.stderr
    assert "BTI-LATE" in table.stdout and "BS-MISSING" in table.stdout
    assert "BTI-MET" not in table.stdout
    for run in (out, vardo, table):
        assert not NIN.search(run.stdout + run.stderr)


def test_bad_options_exit_two_with_one_clear_line(db: str, tmp_path: Path) -> None:
    """An unknown tenant or a --today that is no date: exit 2 and a message naming the option."""
    tenant = _stafett(db, tmp_path, "deadlines", "--tenant", "nowhere")
    assert tenant.returncode == 2
    assert "--tenant" in tenant.stderr
    day = _stafett(db, tmp_path, "deadlines", "--today", "31.03.2026")
    assert day.returncode == 2
    assert "--today" in day.stderr
    quiet = _stafett(db, tmp_path, "deadlines", "--tenant", "vardo", "--today", "2026-04-14")
    assert quiet.returncode == 0
    assert "no overdue deadlines on 2026-04-14" in quiet.stdout
