"""`stafett reconcile [--json]`: report drift between the local record and the remotes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapter.cli._common import EXIT_FAILURE, console, fail, load, print_json, run_async
from adapter.logs import configure_logging
from adapter.resync import ReconcileReport, reconcile
from adapter.wiring.runtime import Runtime

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach `reconcile` to `app`."""

    @app.command("reconcile")
    def reconcile_cmd(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Compare the remote state with the local record; changes nothing.

        Exit 0 also when drift is found (the report says it); exit 1 when a remote could not
        be read for some case (the report lists which).
        """
        settings = load(ctx)
        configure_logging(fmt=settings.log.format.value, level=settings.log.level)

        async def go() -> ReconcileReport:
            rt = await Runtime.open(settings)
            try:
                return await reconcile(rt)
            finally:
                await rt.close()

        report = run_async(go())
        if as_json:
            print_json(report.as_json())
        else:
            _print(report)
        if report.unreadable:
            fail(
                f"{report.unreadable} cases could not be read remotely (see the report)",
                EXIT_FAILURE,
            )


def _print(report: ReconcileReport) -> None:
    if not report.drift:
        console.print(f"{report.cases} cases: no drift", highlight=False)
        return
    table = Table("tenant", "case", "kind", "item", "problem", title="Drift")
    for d in report.drift:
        table.add_row(d["tenant"], d["case_id"], d["kind"], d["item"], d["problem"])
    console.print(table)
    console.print(f"{report.cases} cases: {len(report.drift)} drifting items", highlight=False)
