"""The CLI root: help and bad usage."""

from __future__ import annotations

import subprocess
import sys


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
