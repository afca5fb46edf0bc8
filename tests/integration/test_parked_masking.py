"""Operator output never prints a nin a remote quoted in its error text: `parked list`,
`parked show` and `cases show` mask it; `parked show --reveal` shows it as sent, audited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from adapter.store import open_store
from tests.support.outbox import goal_operation

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "demo.toml"
NIN = "14831651238"  # Tenor synthetic (month + 80)
ERROR = f"Ugyldig fødselsnummer {NIN} for sakspart"


def _cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STAFETT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "adapter", "--config", str(DEMO_CONFIG), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def _parked(url: str) -> int:
    async with await open_store(url) as store:
        await store.outbox.add_operations([goal_operation("BTI-1")])
        [op] = await store.outbox.claim_operations("w1", datetime.now(UTC))
        assert await store.outbox.park_operation(
            op.id, "w1", datetime.now(UTC), error=ERROR, status=200
        )
        return op.id


async def test_operator_output_masks_a_quoted_nin_and_reveal_shows_it_audited(
    sqlite_url: str,
) -> None:
    """list, show and cases show carry the error without the nin; --reveal carries it as
    sent and leaves an audit row naming the operation."""
    op_id = await _parked(sqlite_url)
    listed = _cli("parked", "list", "--json", url=sqlite_url)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)["operations"]
    assert NIN not in listed.stdout and "Ugyldig fødselsnummer" in row["reason"]
    shown = _cli("parked", "show", str(op_id), "--json", url=sqlite_url)
    assert shown.returncode == 0, shown.stderr
    assert NIN not in shown.stdout and json.loads(shown.stdout)["revealed"] is False
    case = _cli("cases", "show", "modum/BTI-1", "--json", url=sqlite_url)
    assert case.returncode == 0, case.stderr
    assert NIN not in case.stdout and "Ugyldig fødselsnummer" in case.stdout
    table = _cli("parked", "list", url=sqlite_url)
    assert table.returncode == 0 and NIN not in table.stdout

    revealed = _cli(
        "parked",
        "show",
        str(op_id),
        "--reveal",
        "--reason",
        "archivist asks",
        "--json",
        url=sqlite_url,
    )
    assert revealed.returncode == 0, revealed.stderr
    assert json.loads(revealed.stdout)["reason"] == ERROR
    async with await open_store(sqlite_url) as store:
        [entry] = [a for a in await store.audit.list_audit() if a.action == "reveal-error"]
    assert entry.subject == str(op_id) and entry.reason == "archivist asks"
    assert NIN not in json.dumps(entry.details)


async def test_show_of_an_operation_that_is_not_parked_is_bad_input(sqlite_url: str) -> None:
    """An unknown (or not parked) operation id is exit 2 naming it."""
    await _parked(sqlite_url)
    out = _cli("parked", "show", "999", url=sqlite_url)
    assert out.returncode == 2
    assert "999" in out.stderr
