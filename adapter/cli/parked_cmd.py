"""`stafett parked list | show OP [--reveal] | retry CASE --reason TEXT | skip OP --reason
TEXT`: operator actions on parked work.

Retry and skip need a reason; each is written together with its audit row (the OS user
and the reason) in one transaction. A remote's error text may carry a child's nin (a P360
message quoting a field): it is shown with nin-shaped numbers masked; `show --reveal`
shows it as sent and writes an audit row first.
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
from adapter.nin import mask_nins

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
                    "reason": None if p.reason is None else mask_nins(p.reason),
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

    @group.command("show")
    def show_cmd(
        ctx: typer.Context,
        op: Annotated[int, typer.Argument(help="The operation id (see `parked list`).")],
        reveal: Annotated[
            bool,
            typer.Option(
                "--reveal",
                help="Show the remote's error text as sent, nins included (audited).",
            ),
        ] = False,
        reason: Annotated[
            str | None, typer.Option("--reason", help="Why it is revealed (kept in the audit).")
        ] = None,
        as_json: Annotated[bool, _JSON] = False,
    ) -> None:
        """One parked operation and the remote's error text (nin-shaped numbers masked
        unless --reveal)."""
        who = actor(reason)
        settings = load(ctx)

        async def go() -> dict[str, Any] | None:
            async with await store_of(settings) as store:
                found = await store.outbox.get_operation(op)
                if found is None or found.state.value != "parked":
                    return None
                if reveal:
                    await store.audit.write_audit(
                        "reveal-error",
                        actor=who.name,
                        tenant=found.tenant,
                        case_id=found.case_id,
                        subject=str(found.id),
                        reason=who.reason,
                    )
            error = found.last_error or ""
            return {
                "tenant": found.tenant,
                "case_id": found.case_id,
                "op_id": found.id,
                "op_ref": found.op_ref,
                "target": found.target.value,
                "kind": found.kind,
                "attempts": found.attempts,
                "last_status": found.last_status,
                "since": found.updated_at.isoformat(),
                "reason": error if reveal else mask_nins(error),
                "revealed": reveal,
            }

        out = run_async(go())
        if out is None:
            fail(f"no parked operation {op}", EXIT_BAD_INPUT)
        if as_json:
            print_json(out)
            return
        table = Table("field", "value", title=f"Parked operation {op}", show_header=False)
        for name, value in out.items():
            table.add_row(name, "" if value is None else str(value))
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
