"""`stafett events rejected|held`: what was refused or waits, and why."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adapter.cli._common import console, load, print_json, run_async, store_of
from adapter.events.safe import (
    safe_event_id,
    safe_field,
    safe_item_id,
    safe_sequence,
    safe_type,
)
from adapter.nin import mask_nins
from adapter.store.records import StoredEvent
from adapter.store.states import EventState

__all__ = ["register"]

_TENANT = typer.Option("--tenant", help="Only this tenant.")
_JSON = typer.Option("--json", help="One JSON object on stdout.")
_LIMIT = typer.Option(
    "--limit", min=1, help="At most this many, oldest first; more are counted, not shown."
)


def _rows(events: list[StoredEvent]) -> list[dict[str, object]]:
    # Rows refused before their ids were checked may hold anything: show only what passes.
    return [
        {
            "tenant": safe_item_id(e.tenant),
            "case_id": safe_item_id(e.case_id),
            "event_id": safe_event_id(e.event_id),
            "sequence": safe_sequence(e.sequence),
            "type": safe_type(e.type),
            "reason": mask_nins(e.reason) if e.reason is not None else None,
            "field": safe_field(e.field),
            "line": e.line,
            "source": e.source.value,
        }
        for e in events
    ]


def register(app: typer.Typer) -> None:
    """Attach the `events` group to `app`."""
    group = typer.Typer(help="Stored events: what was refused or waits.", no_args_is_help=True)

    def show(
        ctx: typer.Context, state: EventState, tenant: str | None, as_json: bool, limit: int
    ) -> None:
        settings = load(ctx)

        async def go() -> tuple[list[StoredEvent], int]:
            async with await store_of(settings) as store:
                shown = await store.events.list_events(state, tenant=tenant, limit=limit)
                total = (await store.events.count_events_by_state(tenant)).get(state, 0)
                return shown, total

        events, total = run_async(go())
        rows = _rows(events)
        more = max(0, total - len(rows))
        if as_json:
            print_json({"events": rows, **({"more": more} if more else {})})
            return
        table = Table(
            "tenant", "case", "event", "seq", "type", "line", "reason", title=f"{state} events"
        )
        for r in rows:
            table.add_row(
                *(
                    escape(str(r[k])) if r[k] is not None else ""
                    for k in ("tenant", "case_id", "event_id", "sequence", "type", "line", "reason")
                )
            )
        console.print(table if rows else f"no {state} events")
        if more:
            console.print(f"… and {more} more {state} events (--limit to show more)")

    @group.command("rejected")
    def rejected_cmd(
        ctx: typer.Context,
        tenant: Annotated[str | None, _TENANT] = None,
        as_json: Annotated[bool, _JSON] = False,
        limit: Annotated[int, _LIMIT] = 1000,
    ) -> None:
        """Events (and lines) refused, with the field and reason."""
        show(ctx, EventState.REJECTED, tenant, as_json, limit)

    @group.command("held")
    def held_cmd(
        ctx: typer.Context,
        tenant: Annotated[str | None, _TENANT] = None,
        as_json: Annotated[bool, _JSON] = False,
        limit: Annotated[int, _LIMIT] = 1000,
    ) -> None:
        """Valid events that may not go yet, with the reason."""
        show(ctx, EventState.HELD, tenant, as_json, limit)

    app.add_typer(group, name="events")
