"""No nin and no name in any log line, through the demo flow and the fault scenarios.

Logging is configured as the service configures it (`configure_logging(fmt="json")`);
what reaches stderr (structlog's lines and the stdlib records it renders) and stdlib
logging as raw records (caplog, at the service's INFO level) are captured, and every
captured line is scanned for every `nin` and every `name` value found in the example
events. Remote errors here echo a person's name on purpose, as a remote system may: the
adapter must keep such detail out of its logs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapter.logs import configure_logging, reset_logging
from tests.support.engine import (
    SharedClock,
    demo_settings,
    example_events,
    mock_for,
    open_engine,
    people_of,
)

EVENTS = example_events("modum", "vardo")
NINS, NAMES = people_of(EVENTS)

FAULTS: list[dict[str, Any]] = [
    {"match": {"method": "POST", "path": "/goals$"}, "action": {"status": 503}, "times": 2},
    {"match": {"method": "POST", "path": "/measures$"}, "action": {"commit_then_fail": 502}},
    {
        "match": {"method": "POST", "path": "/calendar$"},
        "action": {"status": 429, "retry_after": 30},
        "times": 1,
    },
    {"match": {"path": "/consents$"}, "action": {"expire_token": True}, "times": 1},
    {"match": {"method": "PUT", "path": "/lead$"}, "action": {"status": 422}},
    {
        "match": {"method": "POST", "path": "CreateDocument"},
        "action": {"p360_error": "Dokumentet for Emma Solberg Haugen (14831651238) er låst"},
        "times": 1,
    },
    {"match": {"method": "POST", "path": "/close$"}, "action": {"reset": True}, "times": 1},
]


@pytest.fixture
def service_logs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[pytest.CaptureFixture[str]]:
    """The service's JSON logging for one test; stderr to read from the yielded capture."""
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    configure_logging(fmt="json", level="INFO")
    caplog.set_level(logging.INFO)
    try:
        yield capsys
    finally:
        reset_logging()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _lines(stderr: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [line for line in stderr.readouterr().err.splitlines() if line.strip()]
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_text:
            lines.append(record.exc_text)
    return lines


def _leaks(lines: list[str]) -> list[str]:
    found = []
    for line in lines:
        found += [f"nin …{nin[-3:]}" for nin in NINS if nin in line]
        found += [f"name {name!r}" for name in NAMES if name in line]
    return found


def test_the_people_to_look_for_were_found() -> None:
    """The scan list holds every child, guardian, holder and participant of the examples."""
    assert {"14831651238", "21879121466", "16908513391"} <= NINS
    assert {"Emma Solberg Haugen", "Lise Aas", "Kristian Berg", "Marte Lien"} <= NAMES
    assert len(NINS) == 9  # Modum 5, Vardø 4 (one coordinator is also a participant)


@pytest.mark.parametrize("faults", [[], FAULTS], ids=["demo", "faults"])
async def test_no_nin_or_name_in_any_log_line(
    tmp_path: Path,
    service_logs: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    faults: list[dict[str, Any]],
) -> None:
    """The examples (plain, then under every fault kind) log ids only, never a person."""
    clock = SharedClock()
    async with open_engine(demo_settings(tmp_path / "s.db"), app=mock_for(clock), clock=clock) as e:
        if faults:
            await e.fault(*faults)
        await e.seed(EVENTS)
        report = await e.drain()
    lines = _lines(service_logs, caplog)
    structured = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(r.get("event") == "feed polled" for r in structured)  # the capture works
    if faults:
        assert report.parked_cases >= 1
        logged = {r.get("event") for r in structured}
        assert {"operation will be retried", "operation parked"} <= logged
    assert _leaks(lines) == []
