"""Command module ingest_cmd (placeholder until its issue lands)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach this module's commands to `app`."""
