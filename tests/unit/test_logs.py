"""Log redaction: nins, secrets and personal fields never reach a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from adapter.logs import (
    configure_logging,
    get_logger,
    mask_text,
    redact,
    register_secret,
    reset_logging,
    watch_lines,
)

CHILD_NIN = "14831651238"


def test_redact_masks_nins_in_any_string_field() -> None:
    """An 11-digit number (also written 6+5 with a space) is masked wherever it appears."""
    out = redact(None, "info", {"event": "x 01818012345 y", "detail": ["018180 12345"]})
    assert "01818012345" not in str(out)
    assert "12345" not in str(out["detail"])


@pytest.mark.parametrize(
    "separator",
    ["", " ", "\t", "\u00a0", "\n", ".", "_", "-"],
    ids=["none", "space", "tab", "no-break space", "newline", "dot", "underscore", "dash"],
)
def test_redactor_masks_a_nin_split_by_any_separator(separator: str) -> None:
    """Every separator any part of stafett treats as nin-shaped is masked in log events and
    in rendered lines alike (the redactor once missed `_`, which the doors caught)."""
    nin = CHILD_NIN[:6] + separator + CHILD_NIN[6:]
    out = redact(None, "info", {"event": f"x {nin} y", "detail": [nin]})
    assert CHILD_NIN[:6] not in str(out) and CHILD_NIN[6:] not in str(out)
    assert mask_text(f"line {nin}.") == "line ***********."


def test_redact_masks_registered_secrets() -> None:
    """A registered secret value is replaced wherever it appears."""
    register_secret("s3cr3t-value-xyz")
    out = redact(None, "info", {"event": "token s3cr3t-value-xyz used"})
    assert "s3cr3t-value-xyz" not in out["event"]


def test_redact_drops_fields_that_hold_people() -> None:
    """Fields such as name, nin and payload are replaced, also inside nested mappings."""
    out = redact(None, "info", {"event": "e", "name": "Kari", "extra": {"nin": "x", "ok": 1}})
    assert out["name"] == "<redacted>"
    assert out["extra"] == {"nin": "<redacted>", "ok": 1}


def test_configured_json_logs_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """A JSON log line written through the configured pipeline carries no nin."""
    configure_logging(fmt="json", level="INFO")
    try:
        get_logger("t").info("planned", case_id="BTI-1", detail="child 21888012345")
    finally:
        reset_logging()
    err = capsys.readouterr().err
    assert "BTI-1" in err
    assert "21888012345" not in err


class Stderr:
    """What the test wrote to stderr so far."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def getvalue(self) -> str:
        return self._capsys.readouterr().err


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Stderr]:
    """The service's JSON logging, configured for one test; its stderr to read."""
    configure_logging(fmt="json", level="INFO")
    try:
        yield Stderr(capsys)
    finally:
        reset_logging()


def test_stdlib_records_are_redacted_json(json_logs: Stderr) -> None:
    """A record of a library logger (uvicorn, SQLAlchemy…) is one masked JSON line."""
    logging.getLogger("uvicorn.error").error("request for %s failed", f"child {CHILD_NIN}")
    [line] = json_logs.getvalue().splitlines()
    record = json.loads(line)
    assert record["event"] == "request for child *********** failed"
    assert (record["logger"], record["level"]) == ("uvicorn.error", "error")
    assert CHILD_NIN not in line


def test_stdlib_tracebacks_are_redacted(json_logs: Stderr) -> None:
    """The rendered traceback of a library's `exception` log is masked as well."""
    try:
        raise ValueError(f"bad row {CHILD_NIN}")
    except ValueError:
        logging.getLogger("apscheduler.executors").exception("job failed")
    written = json_logs.getvalue()
    assert "ValueError: bad row ***********" in json.loads(written)["exception"]
    assert CHILD_NIN not in written


def test_library_info_stays_quiet_but_warnings_are_logged(json_logs: Stderr) -> None:
    """Libraries speak from WARNING at the INFO level (alembic would chatter on every open)."""
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("sqlalchemy.pool").warning("pool overflow")
    assert [json.loads(x)["event"] for x in json_logs.getvalue().splitlines()] == ["pool overflow"]


def test_lines_are_watched_after_masking(json_logs: Stderr) -> None:
    """`watch_lines` sees every line as written, masked, from structlog and stdlib alike."""
    seen: list[str] = []
    stop = watch_lines(seen.append)
    try:
        get_logger("t").info("x", detail=CHILD_NIN)
        logging.getLogger("asyncio").error("y %s", CHILD_NIN)
    finally:
        stop()
    get_logger("t").info("after stop")
    assert len(seen) == 2
    assert all(CHILD_NIN not in line and "***********" in line for line in seen)


def test_reset_removes_the_root_handler_and_restores_the_level() -> None:
    """After `reset_logging` the root logger is as it was before `configure_logging`."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(fmt="console", level="DEBUG")
    configure_logging(fmt="json", level="INFO")  # again: replaces, does not add
    assert len(root.handlers) == len(handlers) + 1
    reset_logging()
    assert (root.handlers, root.level) == (handlers, level)


def test_mask_text_masks_nins_with_separators_and_secrets() -> None:
    """`mask_text` is the mask every line and the CLI's last-resort line pass."""
    register_secret("another-s3cret-value")
    text = mask_text(f"{CHILD_NIN} 148316 51238 148316-51238 another-s3cret-value 2026-11-02")
    assert text == "*********** *********** *********** ********** 2026-11-02"


def test_uvicorns_own_handlers_are_taken_back_to_the_redacting_root(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After uvicorn installed its default log config (its own, unredacted handlers), the
    configured logging routes its records through the redacting chain once more."""
    own = logging.StreamHandler()
    error_log = logging.getLogger("uvicorn.error")
    error_log.addHandler(own)
    error_log.propagate = False
    configure_logging(fmt="json", level="INFO")
    try:
        assert (own in error_log.handlers, error_log.propagate) == (False, True)
        error_log.error("request for %s failed", CHILD_NIN)
    finally:
        reset_logging()
        error_log.removeHandler(own)
        error_log.propagate = True
    assert json.loads(capsys.readouterr().err)["event"] == "request for *********** failed"
