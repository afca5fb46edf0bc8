"""The CLI root: help and bad usage."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError

from adapter.cli import last_resort_line
from adapter.errors import StoreError

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.toml"


def test_help_lists_the_program() -> None:
    """`stafett --help` succeeds and names the program."""
    out = subprocess.run(
        [sys.executable, "-m", "adapter", "--help"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0
    assert "stafett" in out.stdout


def test_unknown_command_is_bad_usage() -> None:
    """An unknown command exits 2 (bad usage), not 1."""
    out = subprocess.run(
        [sys.executable, "-m", "adapter", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2


CHILD_NIN = "14831651238"
NIN = re.compile(r"(?<!\d)\d{6} ?\d{5}(?!\d)")


def _stafett(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    env["STAFETT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'stafett.db'}"
    return subprocess.run(
        [sys.executable, "-m", "adapter", "--config", str(DEMO), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def test_an_unexpected_database_error_is_one_line_without_sql_or_data(tmp_path: Path) -> None:
    """A failing query whose parameters hold a nin ends as one masked line: no statement,
    no parameters, no traceback; exit 1."""
    assert _stafett(tmp_path, "events", "rejected").returncode == 0  # creates the store
    with contextlib.closing(sqlite3.connect(tmp_path / "stafett.db")) as db:
        db.execute("DROP TABLE events")
        db.commit()
    out = _stafett(tmp_path, "events", "rejected", "--tenant", CHILD_NIN)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "database error (OperationalError): no such table: events" in lines[0]
    assert not NIN.search(out.stderr) and "SELECT" not in out.stderr
    assert "parameters" not in out.stderr


def test_the_last_resort_line_drops_statement_and_parameters() -> None:
    """A driver error's statement and parameters never reach the line; a DataError (which
    may quote a value) shows only its kind; other errors are masked."""
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: events.event_id")
    exc = IntegrityError("INSERT INTO events (payload) VALUES (?)", (f"Emma {CHILD_NIN}",), orig)
    line = last_resort_line(exc)
    assert line == "database error (IntegrityError): UNIQUE constraint failed: events.event_id"
    data = DataError("SELECT 1", None, ValueError('invalid input syntax: "Emma Haugen"'))
    assert last_resort_line(data) == "database error (ValueError)"
    assert last_resort_line(RuntimeError(f"child {CHILD_NIN}\nmore")) == (
        "RuntimeError: child ***********"
    )
    assert last_resort_line(StoreError(f"case {CHILD_NIN} failed")) == "case *********** failed"
