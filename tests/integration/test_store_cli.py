"""`stafett db upgrade` as an operator runs it: a subprocess, settings from config and env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.toml"


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STAFETT_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "adapter", "--config", str(DEMO_CONFIG), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_db_upgrade_applies_migrations_once(sqlite_url: str) -> None:
    """The first run applies every revision (JSON lists them); the second applies none."""
    first = run_cli("db", "upgrade", "--json", database_url=sqlite_url)
    assert first.returncode == 0, first.stderr
    applied = ["0001", "0002", "0003", "0004", "0005"]
    assert json.loads(first.stdout) == {"database": sqlite_url, "applied": applied}
    second = run_cli("db", "upgrade", database_url=sqlite_url)
    assert second.returncode == 0, second.stderr
    assert "already up to date" in second.stdout


def test_db_upgrade_on_an_unreachable_database_fails_without_the_password() -> None:
    """An unreachable database exits 1 with one line on stderr, the password masked."""
    result = run_cli(
        "db", "upgrade", database_url="postgresql+asyncpg://u:topp-hemmelig@127.0.0.1:1/x"
    )
    assert result.returncode == 1
    assert "database unreachable" in result.stderr
    assert "topp-hemmelig" not in result.stderr + result.stdout
