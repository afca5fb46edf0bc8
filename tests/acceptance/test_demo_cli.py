"""`stafett demo` from anywhere: it finds the repository, or says clearly what it lacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from adapter.cli import app
from adapter.cli.run_cmd import DEMO_CONFIG, EXAMPLES, demo_root

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_root_is_the_first_place_with_config_and_examples(tmp_path: Path) -> None:
    """A candidate needs both config/demo.toml and examples/events; none → None."""
    half = tmp_path / "half"
    (half / "config").mkdir(parents=True)
    (half / DEMO_CONFIG).write_text("", encoding="utf-8")
    assert demo_root([half, ROOT]) == ROOT
    assert demo_root([half]) is None
    assert (ROOT / EXAMPLES).is_dir()


def test_demo_runs_from_outside_the_repository(tmp_path: Path) -> None:
    """From another working directory the demo still loads the examples and drains them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFETT_")}
    out = subprocess.run(
        [sys.executable, "-m", "adapter", "demo", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["run"]["events_planned"] == 80
    assert len(result["remote"]["plans"]) >= 2


def test_demo_without_event_streams_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """An examples directory with no streams is refused (never a silent empty demo)."""
    result = CliRunner().invoke(app, ["demo", "--examples", str(tmp_path)], env={})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: no event streams (*.jsonl) in {tmp_path}"
    ]
