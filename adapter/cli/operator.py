"""Who runs an operator command, and why: the `Actor` of its audit rows."""

from __future__ import annotations

import getpass

from adapter.cli._common import EXIT_BAD_INPUT, fail
from adapter.store.audit_repo import Actor

__all__ = ["actor", "operator"]


def operator() -> str:
    """Who runs this command (the OS user), for the audit trail."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor(reason: str | None, *, required: str | None = None) -> Actor:
    """The OS user and `reason`; with `required` (what the reason is for), a missing or blank
    reason is bad usage: one line on stderr, exit 2."""
    text = None if reason is None else reason.strip()
    if required is not None and not text:
        fail(f"--reason is required: say why {required} (kept in the audit trail)", EXIT_BAD_INPUT)
    return Actor(operator(), text or None)
