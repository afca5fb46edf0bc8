"""`stafett status`: counts by state, oldest pending age, parked cases, last poll, per tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from adapter.cli._common import console, load, print_json, run_async, store_of
from adapter.intake.feed import FEED_CURSOR
from adapter.settings import Settings
from adapter.store.states import EventState, OperationState

__all__ = ["collect_status", "register"]


async def collect_status(settings: Settings) -> dict[str, Any]:
    """The contract's `status --json` object, read from the store."""
    now = datetime.now(UTC)
    async with await store_of(settings) as store:
        events = await store.events.count_events_by_state()
        ops = await store.outbox.count_operations_by_state()
        parked = await store.outbox.parked_cases()
        age = await store.outbox.oldest_pending_age(now)
        per_events = await store.events.event_counts_by_tenant()
        per_ops = await store.outbox.operation_counts_by_tenant()
        polls = {p.tenant: p for p in await store.status.list_polls() if p.name == FEED_CURSOR}
        tenants: dict[str, Any] = {}
        for key in sorted(settings.tenants):
            t_age = await store.outbox.oldest_pending_age(now, tenant=key)
            poll = polls.get(key)
            last_poll = None if poll is None else poll.last_success_at
            tenants[key] = {
                "events": {s.value: per_events.get(key, {}).get(s, 0) for s in EventState},
                "operations": {s.value: per_ops.get(key, {}).get(s, 0) for s in OperationState},
                "oldest_pending_seconds": None if t_age is None else round(t_age.total_seconds()),
                "parked_cases": [p.case_id for p in parked if p.tenant == key],
                # the last poll that succeeded (also when it found nothing), not the last
                # time the feed cursor moved
                "last_poll": None if last_poll is None else last_poll.isoformat(),
            }
    return {
        "events": {s.value: n for s, n in events.items()},
        "operations": {s.value: n for s, n in ops.items()},
        "oldest_pending_seconds": None if age is None else round(age.total_seconds()),
        "parked_cases": [str(p) for p in parked],
        "tenants": tenants,
    }


def register(app: typer.Typer) -> None:
    """Attach `status` to `app`."""

    @app.command("status")
    def status_cmd(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Counts by state, oldest pending age, parked cases and last poll, per tenant."""
        status = run_async(collect_status(load(ctx)))
        if as_json:
            print_json(status)
            return
        table = Table(
            "tenant",
            *[s.value for s in EventState],
            "ops pending",
            "ops done",
            "ops parked",
            "oldest pending",
            "last poll",
            title="stafett status",
        )
        for key, t in status["tenants"].items():
            ops = t["operations"]
            pending = ops["pending"] + ops["in_flight"] + ops["unknown"]
            age = t["oldest_pending_seconds"]
            table.add_row(
                key,
                *[str(t["events"][s.value]) for s in EventState],
                str(pending),
                str(ops["done"]),
                str(ops["parked"]),
                "-" if age is None else f"{age} s",
                t["last_poll"] or "-",
            )
        console.print(table)
        if status["parked_cases"]:
            console.print("parked cases: " + ", ".join(status["parked_cases"]), highlight=False)
