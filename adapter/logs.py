"""Structured logs: JSON in service mode, readable on a terminal, always redacted.

Every log event passes `redact`, which masks anything shaped like a national identity
number, every registered secret value, and drops fields that must never be logged
(names, nins, bodies). Callers log ids (tenant, case_id, event_id, op_ref), never people.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal

import structlog

__all__ = ["configure_logging", "get_logger", "redact", "register_secret"]

_NIN = re.compile(r"(?<!\d)\d{6}[ ]?\d{5}(?!\d)")
_MASK = "***********"
_FORBIDDEN_KEYS = frozenset(
    {"name", "nin", "child", "guardians", "given_by", "body", "payload", "text", "content"}
)
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in a log line (tokens, keys, client secrets)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def _mask_text(text: str) -> str:
    text = _NIN.sub(_MASK, text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "**********")
    return text


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, dict):
        return {
            k: ("<redacted>" if k in _FORBIDDEN_KEYS else _mask_value(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    if isinstance(value, BaseException):
        return _mask_text(str(value))
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask nins and secrets, drop fields that may hold personal data."""
    for key in list(event_dict):
        if key in _FORBIDDEN_KEYS:
            event_dict[key] = "<redacted>"
        else:
            event_dict[key] = _mask_value(event_dict[key])
    return event_dict


def _redact_rendered(_logger: Any, _method: str, event_dict: Any) -> Any:
    # Tracebacks are rendered to text by the processors before; mask that text as well.
    if isinstance(event_dict, str):
        return _mask_text(event_dict)
    return event_dict


def configure_logging(
    *,
    fmt: Literal["json", "console"] = "console",
    level: str = "INFO",
    secrets: Iterable[str | None] = (),
) -> None:
    """Configure structlog (and stdlib logging through it) once per process."""
    for secret in secrets:
        register_secret(secret)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # httpx logs full URLs at INFO; a SIF URL may carry `?authkey=`. Keep it quiet.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, renderer, _redact_rendered],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger bound to `name` (the module)."""
    return structlog.get_logger(name)
