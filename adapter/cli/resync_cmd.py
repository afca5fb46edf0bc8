"""`stafett resync --case CASE | --tenant T | --all [--since DATE] [--dry-run] --reason TEXT
[--json]`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

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
from adapter.cli.operator import actor
from adapter.errors import RejectedInput
from adapter.logs import configure_logging
from adapter.resync import ResyncReport, case_keys, resync
from adapter.wiring.runtime import Runtime

__all__ = ["register"]


class _JsonActions:
    """`resync --dry-run --json` as it goes: the `actions` array is written batch by batch
    and the counts last, so the one JSON object never has to be held in memory whole."""

    def __init__(self) -> None:
        self._written = 0

    def __call__(self, actions: list[dict[str, Any]]) -> None:
        for action in actions:
            sys.stdout.write(('{"actions": [' if not self._written else ", ") + _dumps(action))
            self._written += 1
        sys.stdout.flush()

    def close(self, report: ResyncReport) -> None:
        """The counts after the actions: the object's end."""
        rest = _dumps(report.as_json())  # '{"cases": …}' → '"cases": …}'
        sys.stdout.write(("], " if self._written else '{"actions": [], ') + rest[1:] + "\n")
        sys.stdout.flush()


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _would_do(actions: list[dict[str, Any]]) -> None:
    """One batch of a dry-run's actions as a table (printed above the progress bar)."""
    if not actions:
        return
    table = Table("tenant", "case", "action", "item", "why", title="Would do")
    for a in actions:
        table.add_row(a["tenant"], a["case_id"], a["action"], a["item"], a["problem"] or "")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach `resync` to `app`."""

    @app.command("resync")
    def resync_cmd(
        ctx: typer.Context,
        case: Annotated[
            str | None,
            typer.Option(
                "--case",
                help="One case: TENANT/CASE_ID or CASE_ID. What it requeues is run by the "
                "normal dispatcher, which also runs any other case's work that is due.",
            ),
        ] = None,
        tenant: Annotated[
            str | None, typer.Option("--tenant", help="Every case of a tenant.")
        ] = None,
        all_cases: Annotated[bool, typer.Option("--all", help="Every case.")] = False,
        since: Annotated[
            str | None,
            typer.Option(
                "--since",
                help="Only cases with an event on or after DATE (YYYY-MM-DD, Oslo time).",
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the difference; send no write.")
        ] = False,
        reason: Annotated[
            str | None,
            typer.Option(
                "--reason",
                help="Why (kept in the audit trail with your OS user); required unless --dry-run.",
            ),
        ] = None,
        max_wait: Annotated[
            float, typer.Option("--max-wait", min=0, help="Wait for retries due within S s.")
        ] = 60.0,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Rebuild the desired remote state from the stored events and converge to it.

        Missing items are created, differing mutable ones corrected, existing ones adopted;
        differences in the log and in closed plans are reported. Safe beside a running
        service. Every run is audited (OS user, selection, counts; each changed case too).
        """
        if sum((case is not None, tenant is not None, all_cases)) != 1:
            fail("name exactly one of --case, --tenant or --all", EXIT_BAD_INPUT)
        day: date | None = None
        if since is not None:
            try:
                day = date.fromisoformat(since)
            except ValueError:
                fail(f"--since {since!r} is not a date (YYYY-MM-DD)", EXIT_BAD_INPUT)
        who = actor(reason, required=None if dry_run else "the remote systems are rewritten")
        settings = load(ctx)
        if tenant is not None and tenant not in settings.tenants:
            fail(f"unknown tenant {tenant!r}", EXIT_BAD_INPUT)
        configure_logging(fmt=settings.log.format.value, level=settings.log.level)
        show = sys.stdout.isatty() and not as_json
        selection = {"case": case, "tenant": tenant, "all": all_cases, "since": since}
        stream = _JsonActions() if as_json and dry_run else None
        on_actions = stream if stream is not None else (None if as_json else _would_do)

        async def go() -> ResyncReport:
            rt = await Runtime.open(settings)
            try:
                key = None if case is None else await resolve_case(rt.store, settings, case)
                keys = await case_keys(rt.store, tenant=tenant, case=key, since=day)

                async def run(on_case: Callable[[], None] | None = None) -> ResyncReport:
                    return await resync(
                        rt,
                        keys,
                        actor=who,
                        selection=selection,
                        dry_run=dry_run,
                        max_wait_s=max_wait,
                        on_case=on_case,
                        on_actions=on_actions,
                    )

                if not show:
                    return await run()
                with Progress(
                    TextColumn("resync"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                ) as progress:
                    task = progress.add_task("cases", total=len(keys))
                    return await run(lambda: progress.advance(task))
            finally:
                await rt.close()

        try:
            report = run_async(go())
        except RejectedInput as exc:
            fail(str(exc), EXIT_BAD_INPUT)
        if stream is not None:
            stream.close(report)
        elif as_json:
            print_json(report.as_json())
        else:
            _print(report, dry_run=dry_run)
        if report.unreadable:
            fail(
                f"{report.unreadable} cases could not be read remotely (see the report)",
                EXIT_FAILURE,
            )


def _print(report: ResyncReport, *, dry_run: bool) -> None:
    verb = "would be" if dry_run else "were"
    console.print(
        f"{report.cases} cases: {report.created} items {verb} created, {report.updated} "
        f"updated, {report.adopted} adopted; {report.unchanged} unchanged; "
        f"{len(report.reported)} reported",
        highlight=False,
    )
    if report.reported:
        table = Table("tenant", "case", "item", "problem", title="Reported (not converged)")
        for r in report.reported:
            table.add_row(r["tenant"], r["case_id"], r["item"], r["problem"] or "")
        console.print(table)
