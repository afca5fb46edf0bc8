"""`stafett deadlines`: cases whose next meeting is missing or later than the deadline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table

from adapter.cli._common import (
    EXIT_BAD_INPUT,
    console,
    fail,
    load,
    print_json,
    run_async,
    store_of,
)
from adapter.jobs.deadlines import DeadlineRow, deadline_report, oslo_today
from adapter.settings import Settings
from adapter.store.database import utc_now

__all__ = ["register"]


async def _report(settings: Settings, today: date, tenant: str | None) -> list[DeadlineRow]:
    async with await store_of(settings) as store:
        rows = await deadline_report(store, today, tenant=tenant)
    return [r for r in rows if r.tenant in settings.tenants]


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--today: not a date (YYYY-MM-DD): {value!r}", EXIT_BAD_INPUT)


def _when(moment: datetime | None) -> str:
    return "none" if moment is None else moment.isoformat(timespec="minutes")


def register(app: typer.Typer) -> None:
    """Attach `deadlines` to `app`."""

    @app.command("deadlines")
    def deadlines_cmd(
        ctx: typer.Context,
        tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
        today: Annotated[
            str | None,
            typer.Option(
                "--today", help="Judge on this date (YYYY-MM-DD); default: today in Oslo."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Cases whose next meeting is missing or later than the deadline, with days over."""
        settings = load(ctx)
        if tenant is not None and tenant not in settings.tenants:
            fail(f"--tenant: unknown tenant {tenant!r}", EXIT_BAD_INPUT)
        day = oslo_today(utc_now) if today is None else _parse_day(today)
        rows = run_async(_report(settings, day, tenant))
        if as_json:
            print_json({"cases": [r.as_json() for r in rows]})
            return
        if not rows:
            console.print(f"no overdue deadlines on {day.isoformat()}")
            return
        table = Table(
            "tenant",
            "case",
            "deadline",
            "next meeting",
            "days over",
            title=f"deadlines on {day.isoformat()}",
        )
        for r in rows:
            table.add_row(
                r.tenant,
                r.case_id,
                r.deadline.isoformat(),
                _when(r.next_meeting_at),
                str(r.days_over),
            )
        console.print(table)
