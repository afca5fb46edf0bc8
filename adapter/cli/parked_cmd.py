"""`stafett parked list | retry CASE --reason TEXT | skip OP --reason TEXT`: operator
actions on parked work.

Retry and skip need a reason; each is written together with its audit row (the OS user
and the reason) in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from adapter.cli._common import EXIT_BAD_INPUT, console, fail, load, print_json, run_async, store_of
from adapter.cli.case_ref import resolve_case
from adapter.cli.operator import actor
from adapter.errors import RejectedInput

__all__ = ["register"]

_JSON = typer.Option("--json", help="One JSON object on stdout.")


def register(app: typer.Typer) -> None:
    """Attach the `parked` group to `app`."""
    group = typer.Typer(help="Parked operations: list, retry, skip.", no_args_is_help=True)

    @group.command("list")
    def list_cmd(
        ctx: typer.Context,
        tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
        as_json: Annotated[bool, _JSON] = False,
    ) -> None:
        """Parked operations with their reason, oldest first."""
        settings = load(ctx)

        async def go() -> list[dict[str, Any]]:
            async with await store_of(settings) as store:
                parked = await store.outbox.list_parked(tenant)
            return [
                {
                    "tenant": p.tenant,
                    "case_id": p.case_id,
                    "op_id": p.op_id,
                    "target": p.target.value,
                    "kind": p.kind,
                    "reason": p.reason,
                    "since": p.since.isoformat(),
                }
                for p in parked
            ]

        rows = run_async(go())
        if as_json:
            print_json({"operations": rows})
            return
        if not rows:
            console.print("no parked operations")
            return
        table = Table("tenant", "case", "op", "target", "kind", "since", "reason", title="Parked")
        for r in rows:
            table.add_row(
                r["tenant"],
                r["case_id"],
                str(r["op_id"]),
                r["target"],
                r["kind"],
                r["since"],
                r["reason"] or "",
            )
        console.print(table)

    @group.command("retry")
    def retry_cmd(
        ctx: typer.Context,
        case: Annotated[str, typer.Argument(help="TENANT/CASE_ID, or CASE_ID.")],
        reason: Annotated[
            str | None,
            typer.Option("--reason", help="Why it may go now (required; audited)."),
        ] = None,
        as_json: Annotated[bool, _JSON] = False,
    ) -> None:
        """Make a case's parked operations due again (after the cause is fixed)."""
        who = actor(reason, required="the parked work may go now")
        settings = load(ctx)

        async def go() -> dict[str, Any]:
            async with await store_of(settings) as store:
                key = await resolve_case(store, settings, case)
                n = await store.audit.retry_parked_audited(
                    key.tenant, key.case_id, datetime.now(UTC), who
                )
                return {"tenant": key.tenant, "case_id": key.case_id, "retried": n}

        try:
            out = run_async(go())
        except RejectedInput as exc:
            fail(str(exc), EXIT_BAD_INPUT)
        if as_json:
            print_json(out)
        else:
            console.print(
                f"{out['tenant']}/{out['case_id']}: {out['retried']} operations due again",
                highlight=False,
            )

    @group.command("skip")
    def skip_cmd(
        ctx: typer.Context,
        op: Annotated[int, typer.Argument(help="The operation id (see `parked list`).")],
        reason: Annotated[
            str | None,
            typer.Option("--reason", help="Why it is given up (required; audited)."),
        ] = None,
        as_json: Annotated[bool, _JSON] = False,
    ) -> None:
        """Give up one operation so that the later ones of its case and target may go."""
        who = actor(reason, required="the operation is skipped")
        settings = load(ctx)

        async def go() -> dict[str, Any] | None:
            async with await store_of(settings) as store:
                outcome = await store.audit.skip_operation_audited(op, datetime.now(UTC), who)
            if outcome.operation is None:
                return None
            state = outcome.operation.state.value
            return {"op_id": op, "skipped": outcome.skipped, "state": state}

        out = run_async(go())
        if out is None:
            fail(f"no operation {op}", EXIT_BAD_INPUT)
        if not out["skipped"]:
            fail(
                f"operation {op} is {out['state']}: only parked, pending or unknown ones can be "
                "skipped",
                EXIT_BAD_INPUT,
            )
        if as_json:
            print_json(out)
        else:
            console.print(f"operation {op} skipped", highlight=False)

    app.add_typer(group, name="parked")
