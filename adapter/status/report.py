"""The status report: per tenant and target, what waits, what is stuck, and when each
remote last answered — the data of `GET /status` and `GET /status.json`.

Read from the store only (every replica shows the shared truth). Remote error texts are
shown with nin-shaped numbers (and registered secrets) masked; nothing else of a case's
content is read, so no name reaches the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapter.jobs.deadlines import deadline_report, oslo_today
from adapter.logs import mask_text
from adapter.settings import Settings
from adapter.store.states import Target
from adapter.store.status_repo import QueueError, QueueStatus
from adapter.store.store import Store

__all__ = ["collect_report"]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _target_row(
    queue: QueueStatus | None, error: QueueError | None, now: datetime
) -> dict[str, Any]:
    oldest = None if queue is None else queue.oldest_open_at
    return {
        "backlog": 0 if queue is None else queue.backlog,
        "oldest_pending_seconds": (
            None if oldest is None else max(round((now - oldest).total_seconds()), 0)
        ),
        "parked": 0 if queue is None else queue.parked,
        "last_call": None if queue is None else _iso(queue.last_done_at),
        "last_error": (
            None
            if error is None
            else {"class": error.error_class, "status": error.status, "at": _iso(error.at)}
        ),
    }


async def collect_report(
    settings: Settings, store: Store, clock: Callable[[], datetime]
) -> dict[str, Any]:
    """The status report as one JSON-ready object (see the module docstring).

    `{"generated_at", "tenants": {tenant: {"last_poll", "last_poll_failure",
    "last_poll_error", "held_events", "deadlines_over": [case_id…], "targets": {target:
    {"backlog", "oldest_pending_seconds", "parked", "last_call", "last_error"}},
    "parked": [{"case_id", "op_id", "target", "kind", "reason", "since"}]}}}`
    """
    now = clock()
    queues = {(q.tenant, q.target): q for q in await store.status.queues()}
    errors = {(e.tenant, e.target): e for e in await store.status.latest_errors()}
    polls = {p.tenant: p for p in await store.status.list_polls()}
    held = await store.status.held_counts()
    overdue = await deadline_report(store, oslo_today(clock))
    parked = await store.outbox.list_parked()
    tenants: dict[str, Any] = {}
    for key in sorted(settings.tenants):
        poll = polls.get(key)
        tenants[key] = {
            "last_poll": None if poll is None else _iso(poll.last_success_at),
            "last_poll_failure": None if poll is None else _iso(poll.last_failure_at),
            "last_poll_error": (
                None if poll is None or poll.last_error is None else mask_text(poll.last_error)
            ),
            "held_events": held.get(key, 0),
            "deadlines_over": [row.case_id for row in overdue if row.tenant == key],
            "targets": {
                t.value: _target_row(queues.get((key, t)), errors.get((key, t)), now)
                for t in Target
            },
            "parked": [
                {
                    "case_id": p.case_id,
                    "op_id": p.op_id,
                    "target": p.target.value,
                    "kind": p.kind,
                    "reason": None if p.reason is None else mask_text(p.reason),
                    "since": _iso(p.since),
                }
                for p in parked
                if p.tenant == key
            ],
        }
    return {"generated_at": now.isoformat(), "tenants": tenants}
