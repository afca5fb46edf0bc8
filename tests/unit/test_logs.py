"""Log redaction: nins, secrets and personal fields never reach a log line."""

from __future__ import annotations

import structlog

from adapter.logs import configure_logging, get_logger, redact, register_secret


def test_redact_masks_nins_in_any_string_field() -> None:
    """An 11-digit number (also written 6+5 with a space) is masked wherever it appears."""
    out = redact(None, "info", {"event": "x 01818012345 y", "detail": ["018180 12345"]})
    assert "01818012345" not in str(out)
    assert "12345" not in str(out["detail"])


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


def test_configured_json_logs_are_redacted(capsys: object) -> None:
    """A JSON log line written through the configured pipeline carries no nin."""
    configure_logging(fmt="json", level="INFO")
    try:
        get_logger("t").info("planned", case_id="BTI-1", detail="child 21888012345")
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "BTI-1" in err
    assert "21888012345" not in err
