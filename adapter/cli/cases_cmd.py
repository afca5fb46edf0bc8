"""`stafett cases show CASE`: one case's events, operations, remote ids, and why anything waits."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from adapter.cli._common import console, load, print_json, run_async, store_of
from adapter.cli.case_ref import resolve_case
from adapter.nin import mask_nins
from adapter.store.states import OperationState

__all__ = ["register"]

_FINISHED = {OperationState.DONE, OperationState.SKIPPED}


def _masked(text: str | None) -> str | None:
    """A stored reason or remote error text with nin-shaped numbers masked (a remote may
    quote a child's nin; `parked show --reveal` shows it as sent)."""
    return None if text is None else mask_nins(text)


async def _collect(settings: Any, arg: str) -> dict[str, Any]:
    async with await store_of(settings) as store:
        key = await resolve_case(store, settings, arg)
        events = await store.events.events_for_case(key.tenant, key.case_id, include_rejected=True)
        ops = await store.outbox.operations_for_case(key.tenant, key.case_id)
        links = await store.links.links_for_case(key.tenant, key.case_id)
    waiting: list[str] = [
        f"event {e.sequence} ({e.type}) held: {_masked(e.reason)}"
        for e in events
        if e.state == "held"
    ]
    open_by_target: dict[str, int] = {}
    for op in ops:
        if op.state in _FINISHED:
            continue
        target = op.target.value
        if op.state is OperationState.PARKED:
            waiting.append(f"operation {op.id} ({op.kind}) parked: {_masked(op.last_error)}")
        elif target in open_by_target:
            waiting.append(
                f"operation {op.id} ({op.kind}) waits for operation {open_by_target[target]}"
            )
        elif op.waits_for:
            waiting.append(f"operation {op.id} ({op.kind}) waits for {op.waits_for}")
        elif op.next_attempt_at is not None:
            waiting.append(
                f"operation {op.id} ({op.kind}) retries at {op.next_attempt_at.isoformat()}"
                f" after: {_masked(op.last_error)}"
            )
        open_by_target.setdefault(target, op.id)
    return {
        "tenant": key.tenant,
        "case_id": key.case_id,
        "events": [
            {
                "sequence": e.sequence,
                "event_id": e.event_id,
                "type": e.type,
                "state": e.state.value,
                "reason": _masked(e.reason),
            }
            for e in events
        ],
        "operations": [
            {
                "op_id": o.id,
                "op_ref": o.op_ref,
                "target": o.target.value,
                "kind": o.kind,
                "state": o.state.value,
                "attempts": o.attempts,
                "remote_id": o.remote_id,
                "last_error": _masked(o.last_error),
            }
            for o in ops
        ],
        "links": [
            {"target": target.value, "item": ref, "remote_id": remote}
            for (target, ref), remote in sorted(links.items())
        ],
        "waiting": waiting,
    }


def register(app: typer.Typer) -> None:
    """Attach the `cases` group to `app`."""
    group = typer.Typer(help="One case at a time.", no_args_is_help=True)

    @group.command("show")
    def show_cmd(
        ctx: typer.Context,
        case: Annotated[str, typer.Argument(help="TENANT/CASE_ID, or CASE_ID.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Events, operations, remote ids, and why anything waits."""
        info = run_async(_collect(load(ctx), case))
        if as_json:
            print_json(info)
            return
        console.print(f"[bold]{info['tenant']}/{info['case_id']}[/]")
        events = Table("seq", "type", "state", "reason", title="Events")
        for e in info["events"]:
            events.add_row(str(e["sequence"] or ""), e["type"] or "", e["state"], e["reason"] or "")
        console.print(events)
        ops = Table("id", "target", "kind", "state", "tries", "remote id", title="Operations")
        for o in info["operations"]:
            ops.add_row(
                str(o["op_id"]),
                o["target"],
                o["kind"],
                o["state"],
                str(o["attempts"]),
                o["remote_id"] or "",
            )
        console.print(ops)
        if info["waiting"]:
            console.print("[bold]Why it waits[/]")
            for line in info["waiting"]:
                console.print(f"  {line}", highlight=False, markup=False)
        else:
            console.print("nothing waits")

    app.add_typer(group, name="cases")
