"""A pytest plugin: no test may write a nin or a known person's name into any log line.

Every line written during a test phase (setup, call, teardown) is scanned:

- each rendered line of `adapter.logs` (structlog, and stdlib records once logging is
  configured), as written, that is after masking (`watch_lines`);
- each stdlib record of WARNING or above while logging is not configured, as Python's
  fallback handler would print it, unmasked (once configured, records are rendered, masked
  and watched like structlog's: a test that logs a nin to prove the masking passes);
- whatever the phase left on stdout and stderr (structlog's defaults, Python's fallback
  handler, prints).

A line that holds a nin-shaped number, or the name of a person of the example streams or
of the tests' synthetic people, fails that phase of the test, naming what was found
(the finding itself is shown masked). Lines written outside any test fail the session.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapter.logs import configured, watch_lines
from adapter.nin import looks_like_nin, mask_nins
from tests.support.people import people_of

__all__ = ["Leak", "LeakScanner", "default_scanner"]

ROOT = Path(__file__).resolve().parents[2]
_PERSON = re.compile(r"[A-ZÆØÅ][\wæøåÆØÅ-]+(?: [A-ZÆØÅ][\wæøåÆØÅ-]+)+")
_NAME_IN_SOURCE = re.compile(
    r"""(?:["']name["']\s*:\s*|\bname\s*=\s*|_NAME\s*=\s*)["']([^"'\n]{3,60})["']"""
)


@dataclass(frozen=True)
class Leak:
    """One finding: what kind, and the line it was in (shown masked)."""

    kind: str
    line: str


@dataclass
class LeakScanner:
    """Finds nin-shaped numbers and the given names in lines."""

    names: frozenset[str]
    _names_pattern: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.names:
            alternatives = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
            self._names_pattern = re.compile(rf"\b(?:{alternatives})\b")

    def scan(self, lines: Iterable[str]) -> list[Leak]:
        """Every leak in `lines`, in order, each once (a line is often seen twice: as
        written, and in the captured output)."""
        found: dict[Leak, None] = {}
        for line in lines:
            if looks_like_nin(line):
                found[Leak("a nin-shaped number", self.shown(line))] = None
            if self._names_pattern is not None and self._names_pattern.search(line):
                found[Leak("a person's name", self.shown(line))] = None
        return list(found)

    def shown(self, line: str) -> str:
        """`line` as a report may show it: numbers masked, names as initials, cut short."""
        line = mask_nins(line)
        if self._names_pattern is not None:
            line = self._names_pattern.sub(
                lambda m: " ".join(part[0] + "." for part in m.group().split()), line
            )
        return line if len(line) <= 300 else line[:300] + "…"


def _names_in_events(paths: Iterable[Path]) -> set[str]:
    raws: list[Any] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                raws.append(json.loads(line))
            except ValueError:
                continue  # bad.jsonl breaks JSON on purpose
    return people_of(raws)[1]


def _names_in_sources(paths: Iterable[Path]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        for match in _NAME_IN_SOURCE.finditer(path.read_text(encoding="utf-8")):
            if _PERSON.fullmatch(match.group(1)):
                names.add(match.group(1))
    return names


def default_scanner(root: Path = ROOT) -> LeakScanner:
    """The names of the example streams and of the tests' synthetic people, and nins."""
    events = sorted((root / "examples" / "events").glob("*.jsonl"))
    sources = sorted((root / "tests").rglob("*.py"))
    names = {
        n for n in _names_in_events(events) | _names_in_sources(sources) if _PERSON.fullmatch(n)
    }
    return LeakScanner(frozenset(names))


class _UnroutedRecords(logging.Handler):
    """Hands `sink` what Python's fallback handler would print of a record while
    `adapter.logs` is not configured (outside pytest, no handler would take it)."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(level=logging.WARNING)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if configured():
            return  # rendered, masked and watched by adapter.logs itself
        self._sink(logging.Formatter().format(record))


class LogGuard:
    """The plugin object: collects lines per phase and fails phases that leak."""

    def __init__(self, scanner: LeakScanner) -> None:
        self.scanner = scanner
        self.outside: list[Leak] = []
        self._lines: list[str] = []
        self._stop: Callable[[], None] | None = None
        self._handler = _UnroutedRecords(self._collect)

    def _collect(self, text: str) -> None:
        self._lines.extend(text.splitlines() or [text])

    def _take(self) -> list[str]:
        lines, self._lines = self._lines, []
        return lines

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._stop = watch_lines(self._collect)
        logging.getLogger().addHandler(self._handler)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.outside += self.scanner.scan(self._take())  # written while collecting

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        lines = self._take()
        for title, content in report.sections:
            if title in (f"Captured stdout {report.when}", f"Captured stderr {report.when}"):
                lines.extend(content.splitlines())
        leaks = self.scanner.scan(lines)
        if leaks:
            report.outcome = "failed"
            shown = "\n".join(f"  {leak.kind}: {leak.line}" for leak in leaks[:10])
            more = f"\n  … and {len(leaks) - 10} more" if len(leaks) > 10 else ""
            report.longrepr = (
                f"log guard: {item.nodeid} wrote a nin or a name during {report.when}:\n"
                f"{shown}{more}"
            )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._stop is not None:
            self._stop()
        logging.getLogger().removeHandler(self._handler)
        leaks = self.outside + self.scanner.scan(self._take())
        if leaks:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line("log guard: a nin or a name was logged outside any test:")
                for leak in leaks[:10]:
                    reporter.write_line(f"  {leak.kind}: {leak.line}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the guard (once per session)."""
    if not config.pluginmanager.has_plugin("stafett-log-guard"):
        config.pluginmanager.register(LogGuard(default_scanner()), "stafett-log-guard")
