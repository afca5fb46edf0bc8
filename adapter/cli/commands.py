"""Registers every command group on the app; one line per module."""

from __future__ import annotations

import typer

__all__ = ["register_all"]


def register_all(app: typer.Typer) -> None:
    """Attach every command module's commands to `app`."""
    from adapter.cli import (
        cases_cmd,
        config_cmd,
        db_cmd,
        deadlines_cmd,
        events_cmd,
        ingest_cmd,
        mock_cmd,
        parked_cmd,
        reconcile_cmd,
        resync_cmd,
        run_cmd,
        status_cmd,
    )

    for module in (
        config_cmd,
        db_cmd,
        ingest_cmd,
        status_cmd,
        events_cmd,
        cases_cmd,
        parked_cmd,
        run_cmd,
        mock_cmd,
        deadlines_cmd,
        resync_cmd,
        reconcile_cmd,
    ):
        module.register(app)
