"""The suite's log guard (tests/support/log_guard.py) finds leaks, and fails the test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.log_guard import LeakScanner, default_scanner

ROOT = Path(__file__).resolve().parents[2]
CHILD_NIN = "14831651238"
CHILD_NAME = "Emma Solberg Haugen"


def test_the_scanner_finds_nins_and_names_and_shows_neither() -> None:
    """A nin-shaped number or a known name is a leak; the shown line has neither."""
    scanner = LeakScanner(frozenset({CHILD_NAME}))
    leaks = scanner.scan(
        [
            f"planned case BTI-1 for {CHILD_NIN}",
            f"note by {CHILD_NAME}",
            "child 148316 51238",
            "planned case BTI-1 for ***********",
            "event 712acc39-471d-592e-b25d-b1028b59407f at 2026-01-12T09:40:00+01:00",
        ]
    )
    assert [leak.kind for leak in leaks] == [
        "a nin-shaped number",
        "a person's name",
        "a nin-shaped number",
    ]
    shown = " ".join(leak.line for leak in leaks)
    assert CHILD_NIN not in shown and CHILD_NAME not in shown and "E. S. H." in shown


def test_the_default_scanner_knows_the_example_and_test_people() -> None:
    """Names come from the example streams and from the tests' synthetic people."""
    names = default_scanner().names
    assert {CHILD_NAME, "Marte Lien", "Noah Pedersen Isaksen", "Kari Nordmann"} <= names


GUARDED = """
import logging

import structlog

from adapter.logs import configure_logging, get_logger, reset_logging


def test_prints_a_nin():
    print("child 14831651238")


def test_logs_a_name_through_configured_logging():
    configure_logging(fmt="json")
    try:
        get_logger("t").info("noted", detail="Emma Solberg Haugen")
    finally:
        reset_logging()


def test_warns_a_nin_through_unconfigured_stdlib():
    logging.getLogger("uvicorn.error").warning("request for 14831651238 failed")


def test_logs_a_nin_that_is_masked():
    configure_logging(fmt="json")
    try:
        get_logger("t").info("planned", detail="child 14831651238")
        logging.getLogger("uvicorn.error").error("request for 14831651238 failed")
    finally:
        reset_logging()
"""


def test_the_guard_fails_a_test_that_leaks_and_passes_one_that_masks(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run under the guard: three leaking tests fail (named, nothing shown in clear); the
    test whose nin is masked by the logging passes."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_guarded=GUARDED)
    result = pytester.runpytest_subprocess(
        "-p",
        "tests.support.log_guard",
        "-p",
        "no:randomly",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    capsys.readouterr()  # pytester echoes the run, leaks included: this guard must not see it
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    for name in (
        "test_prints_a_nin",
        "test_logs_a_name_through_configured_logging",
        "test_warns_a_nin_through_unconfigured_stdlib",
    ):
        assert f"log guard: test_guarded.py::{name} wrote a nin or a name during call" in out
    assert "test_logs_a_nin_that_is_masked" not in out.split("short test summary")[-1]
