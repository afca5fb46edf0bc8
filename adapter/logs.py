"""Structured logs: JSON in service mode, readable on a terminal, always redacted.

Every log event passes `redact`, which masks anything shaped like a national identity
number, every registered secret value, and drops fields that must never be logged
(names, nins, bodies). Callers log ids (tenant, case_id, event_id, op_ref), never people.

Records of the standard library's `logging` (uvicorn, SQLAlchemy, APScheduler, asyncio,
httpx) take the same way: `configure_logging` puts one handler on the root logger whose
`structlog.stdlib.ProcessorFormatter` redacts and renders them like structlog's own
events. Both write to `sys.stderr` as it is when they write, and every rendered line is
masked once more as text (tracebacks included) and handed to the `watch_lines` callbacks.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any, Literal, TextIO

import structlog

from adapter.nin import mask_nins

__all__ = [
    "configure_logging",
    "configured",
    "get_logger",
    "mask_text",
    "redact",
    "register_secret",
    "reset_logging",
    "watch_lines",
]

_SECRET_MASK = "**********"  # noqa: S105 - the mask that replaces secrets, not one
_FORBIDDEN_KEYS = frozenset(
    {"name", "nin", "child", "guardians", "given_by", "body", "payload", "text", "content"}
)
_QUIET = ("httpx", "httpcore")  # they log full URLs at INFO; a SIF URL may carry `?authkey=`
# uvicorn's default log config gives these handlers of their own (unredacted, not JSON)
# and stops them propagating; configured logging takes them back to the root handler.
_OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_secrets: set[str] = set()
_watchers: list[Callable[[str], None]] = []
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in a log line (tokens, keys, client secrets)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def mask_text(text: str) -> str:
    """`text` with every nin-shaped number and every registered secret masked."""
    text = mask_nins(text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, _SECRET_MASK)
    return text


def watch_lines(callback: Callable[[str], None]) -> Callable[[], None]:
    """Call `callback` with every log line as written (after masking); returns the stop.

    For audits of the output, such as the test suite's guard against leaked nins.
    """
    with _lock:
        _watchers.append(callback)

    def stop() -> None:
        with _lock:
            if callback in _watchers:
                _watchers.remove(callback)

    return stop


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {
            k: ("<redacted>" if k in _FORBIDDEN_KEYS else _mask_value(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    if isinstance(value, BaseException):
        return mask_text(str(value))
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


def _finish(_logger: Any, _method: str, rendered: Any) -> Any:
    # Tracebacks are rendered to text by the processors before; mask that text as well.
    if not isinstance(rendered, str):
        return rendered
    line = mask_text(rendered)
    for watcher in list(_watchers):
        watcher(line)
    return line


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    # Looked up at each call, so that a redirected stderr (tests, CLI runners) is honoured.
    return structlog.PrintLogger(file=sys.stderr)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """The root handler: writes each record to the `sys.stderr` of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _library_level(level_no: int) -> int:
    # Libraries chatter at INFO (alembic on every store open, uvicorn, APScheduler): they
    # speak from WARNING, unless the operator asks for DEBUG.
    return level_no if level_no <= logging.DEBUG else max(level_no, logging.WARNING)


_installed: _StderrHandler | None = None
_root_level_before: int | None = None


def configure_logging(
    *,
    fmt: Literal["json", "console"] = "console",
    level: str = "INFO",
    secrets: Iterable[str | None] = (),
) -> None:
    """Configure structlog, and stdlib logging through the same chain; again replaces."""
    global _installed, _root_level_before
    for secret in secrets:
        register_secret(secret)
    level_no = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
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
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in _OWN_HANDLERS:
        library = logging.getLogger(name)
        for own in list(library.handlers):
            library.removeHandler(own)
        library.propagate = True
    structlog.configure(
        processors=[*shared, renderer, _finish],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *shared,
                renderer,
                _finish,
            ],
        )
    )
    root = logging.getLogger()
    with _lock:
        if _installed is not None:
            root.removeHandler(_installed)
        if _root_level_before is None:
            _root_level_before = root.level
        root.addHandler(handler)
        root.setLevel(_library_level(level_no))
        _installed = handler


def configured() -> bool:
    """Whether `configure_logging` is in effect (stdlib records take the redacting chain)."""
    return _installed is not None


def reset_logging() -> None:
    """Undo `configure_logging`: structlog's defaults, the root logger as it was before."""
    global _installed, _root_level_before
    structlog.reset_defaults()
    root = logging.getLogger()
    with _lock:
        if _installed is not None:
            root.removeHandler(_installed)
            _installed = None
        if _root_level_before is not None:
            root.setLevel(_root_level_before)
            _root_level_before = None


def get_logger(name: str) -> Any:
    """A structlog logger bound to `name` (the module)."""
    return structlog.get_logger(name)
