"""`stafett parked retry` and `skip` refuse to act without a reason (exit 2, one clear line),
before touching a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.cli import app

CONFIG = str(Path(__file__).resolve().parents[2] / "config" / "demo.toml")


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["retry", "modum/BTI-1"], "the parked work may go now"),
        (["retry", "modum/BTI-1", "--reason", " "], "the parked work may go now"),
        (["skip", "7"], "the operation is skipped"),
    ],
)
def test_parked_action_without_a_reason_exits_2(args: list[str], why: str, tmp_path: Path) -> None:
    """A retry or skip with no (or a blank) reason: exit 2 saying why it is needed."""
    env = {"STAFETT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(app, ["--config", CONFIG, "parked", *args], env=env)
    assert result.exit_code == 2, result.output
    assert f"--reason is required: say why {why}" in result.output
    assert not (tmp_path / "x.db").exists()
