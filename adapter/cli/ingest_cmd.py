"""`stafett ingest FILE.jsonl`: the file door."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adapter.cli._common import (
    EXIT_BAD_INPUT,
    console,
    load,
    print_json,
    rules_of,
    run_async,
    store_of,
)
from adapter.intake.files import IngestReport, ingest_file
from adapter.intake.inbox import Inbox
from adapter.intake.receive import ReceiptOutcome

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach `ingest` to `app`."""

    @app.command("ingest")
    def ingest_cmd(
        ctx: typer.Context,
        file: Annotated[
            Path,
            typer.Argument(
                exists=True, dir_okay=False, readable=True, help="JSONL, one event a line."
            ),
        ],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Validate and store every line of FILE; refused lines are stored as rejected.

        Exit 0 when nothing was rejected, 2 otherwise. Ingesting a file again adds nothing.
        """
        settings = load(ctx)

        async def go() -> IngestReport:
            async with await store_of(settings) as store:
                return await ingest_file(file, inbox=Inbox(store.events), rules=rules_of(settings))

        report = run_async(go())
        if as_json:
            print_json(report.as_json())
        else:
            _print(report, file)
        if report.count(ReceiptOutcome.REJECTED):
            raise typer.Exit(EXIT_BAD_INPUT)


def _print(report: IngestReport, file: Path) -> None:
    console.print(
        f"{file.name}: {report.count(ReceiptOutcome.ACCEPTED)} accepted, "
        f"{report.count(ReceiptOutcome.DUPLICATE)} duplicate, "
        f"{report.count(ReceiptOutcome.REJECTED)} rejected",
        highlight=False,
    )
    if report.rejections:
        table = Table("line", "event", "field", "reason", title="Rejected lines")
        for r in report.rejections:
            cells = (str(r.line or ""), r.event_id or "", r.field or "", r.message or "")
            table.add_row(*(escape(cell) for cell in cells))
        console.print(table)
