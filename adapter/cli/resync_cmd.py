"""`stafett resync --case CASE | --tenant T | --all [--since DATE] [--dry-run] [--json]`."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapter.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    console,
    fail,
    load,
    print_json,
    run_async,
)
from adapter.cli.case_ref import resolve_case
from adapter.errors import RejectedInput
from adapter.logs import configure_logging
from adapter.resync import ResyncReport, case_keys, resync
from adapter.runner.runtime import Runtime

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach `resync` to `app`."""

    @app.command("resync")
    def resync_cmd(
        ctx: typer.Context,
        case: Annotated[
            str | None, typer.Option("--case", help="One case: TENANT/CASE_ID or CASE_ID.")
        ] = None,
        tenant: Annotated[
            str | None, typer.Option("--tenant", help="Every case of a tenant.")
        ] = None,
        all_cases: Annotated[bool, typer.Option("--all", help="Every case.")] = False,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Only cases with an event on or after DATE (YYYY-MM-DD)."),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the difference; send no write.")
        ] = False,
        max_wait: Annotated[
            float, typer.Option("--max-wait", min=0, help="Wait for retries due within S s.")
        ] = 60.0,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Rebuild the desired remote state from the stored events and converge to it."""
        if sum((case is not None, tenant is not None, all_cases)) != 1:
            fail("name exactly one of --case, --tenant or --all", EXIT_BAD_INPUT)
        day: date | None = None
        if since is not None:
            try:
                day = date.fromisoformat(since)
            except ValueError:
                fail(f"--since {since!r} is not a date (YYYY-MM-DD)", EXIT_BAD_INPUT)
        settings = load(ctx)
        if tenant is not None and tenant not in settings.tenants:
            fail(f"unknown tenant {tenant!r}", EXIT_BAD_INPUT)
        configure_logging(fmt=settings.log.format.value, level=settings.log.level)
        show = sys.stdout.isatty() and not as_json

        async def go() -> ResyncReport:
            rt = await Runtime.open(settings)
            try:
                key = None if case is None else await resolve_case(rt.store, settings, case)
                keys = await case_keys(rt.store, tenant=tenant, case=key, since=day)
                if not show:
                    return await resync(rt, keys, dry_run=dry_run, max_wait_s=max_wait)
                with Progress(
                    TextColumn("resync"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                ) as progress:
                    task = progress.add_task("cases", total=len(keys))
                    return await resync(
                        rt,
                        keys,
                        dry_run=dry_run,
                        max_wait_s=max_wait,
                        on_case=lambda: progress.advance(task),
                    )
            finally:
                await rt.close()

        try:
            report = run_async(go())
        except RejectedInput as exc:
            fail(str(exc), EXIT_BAD_INPUT)
        if as_json:
            print_json(report.as_json(dry_run=dry_run))
        else:
            _print(report, dry_run=dry_run)
        if report.unreadable:
            raise typer.Exit(EXIT_FAILURE)


def _print(report: ResyncReport, *, dry_run: bool) -> None:
    verb = "would be" if dry_run else "were"
    console.print(
        f"{report.cases} cases: {report.created} items {verb} created, {report.updated} "
        f"updated, {report.adopted} adopted; {report.unchanged} unchanged; "
        f"{len(report.reported)} reported",
        highlight=False,
    )
    if dry_run and report.actions:
        table = Table("tenant", "case", "action", "item", "why", title="Would do")
        for a in report.actions:
            table.add_row(a["tenant"], a["case_id"], a["action"], a["item"], a["problem"] or "")
        console.print(table)
    if report.reported:
        table = Table("tenant", "case", "item", "problem", title="Reported (not converged)")
        for r in report.reported:
            table.add_row(r["tenant"], r["case_id"], r["item"], r["problem"] or "")
        console.print(table)
