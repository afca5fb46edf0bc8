"""`stafett resync` as an operator runs it, against `stafett mock` in its own process."""

from __future__ import annotations

import getpass
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from adapter.cli.demo import load_examples
from tests.support.mock_process import ROOT, mock_process, stafett_json, state, writes
from tests.support.remote_state import duplicates, normalize


@pytest.mark.slow
def test_resync_after_a_wipe_recreates_the_state_and_then_sends_nothing(tmp_path: Path) -> None:
    """A wiped mock is rebuilt exactly; a second resync and a dry-run send no write."""
    db = tmp_path / "stafett.db"
    with mock_process() as url:
        httpx.post(f"{url}/_mock/internal/events", json=load_examples(ROOT / "examples/events"))
        run = stafett_json(url, db, "run", "--once")
        assert run["operations_pending"] == 0 and run["parked_cases"] == 0
        before = state(url)
        assert before["samspill"]["plans"] and before["p360"]["documents"]

        httpx.post(f"{url}/_mock/reset").raise_for_status()
        dry = stafett_json(url, db, "resync", "--all", "--dry-run")
        assert writes(url) == 0
        assert dry["cases"] == 2 and dry["created"] > 0
        assert {"action": "create", "item": "plan:stafettlogg"}.items() <= dry["actions"][0].items()
        assert state(url)["samspill"]["plans"] == []

        done = stafett_json(url, db, "resync", "--all", "--reason", "mock wiped")
        assert (done["created"], done["updated"]) == (dry["created"], dry["updated"])
        assert done["reported"] == []
        after = state(url)
        assert duplicates(after) == []
        assert normalize(after) == normalize(before)

        sent = writes(url)
        again = stafett_json(url, db, "resync", "--all", "--reason", "check")
        assert writes(url) == sent
        assert (again["created"], again["updated"], again["adopted"]) == (0, 0, 0)
        assert again["unchanged"] > 0

        nothing = stafett_json(url, db, "resync", "--all", "--dry-run")
        assert nothing["actions"] == [] and nothing["cases"] == 2

        httpx.post(f"{url}/_mock/reset").raise_for_status()
        listed = stafett_json(url, db, "resync", "--all", "--dry-run")
        assert writes(url) == 0
        assert len(listed["actions"]) == dry["created"] + dry["updated"]

    with sqlite3.connect(db) as conn:
        runs = conn.execute(
            "SELECT actor, reason, details FROM audit WHERE action = 'resync.run' ORDER BY id"
        ).fetchall()
        cases = conn.execute("SELECT count(*) FROM audit WHERE action = 'resync.case'").fetchone()
    me = getpass.getuser()
    assert [(actor, reason) for actor, reason, _ in runs] == [
        (me, None),
        (me, "mock wiped"),
        (me, "check"),
        (me, None),
        (me, None),
    ]
    assert [json.loads(d)["dry_run"] for _, _, d in runs] == [True, False, False, True, True]
    assert cases == (2,)  # the converging run changed both cases; the second changed none
