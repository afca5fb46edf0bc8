"""`stafett resync` refuses bad usage with exit 2 before touching a store or a remote."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.cli import app

CONFIG = str(Path(__file__).resolve().parents[2] / "config" / "demo.toml")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--all", "--tenant", "modum"],
        ["--all", "--since", "last week"],
        ["--tenant", "nowhere", "--reason", "x"],
        ["--all"],
        ["--all", "--reason", "  "],
    ],
)
def test_resync_bad_usage_exits_2(args: list[str], tmp_path: Path) -> None:
    """No selector, two selectors, a bad date, an unknown tenant, or a converging run with
    no reason: exit 2, nothing opened."""
    env = {"STAFETT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(app, ["--config", CONFIG, "resync", *args], env=env)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "x.db").exists()
