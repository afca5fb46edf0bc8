"""Retention of what never closes: rejected and held events are cut to their ids once their
tenant's `rejected_retention_days` have passed, whatever they name (events.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from adapter.jobs.retention import purge_expired_cases
from adapter.settings import Settings, load_settings
from adapter.store import EventSource, EventState, InsertOutcome, RejectedRecord, Store
from adapter.store.records import InboundEvent
from adapter.store.retention_repo import HELD_CUT_REASON

ROOT = Path(__file__).resolve().parents[2]
FIRST = (ROOT / "examples/events/modum.jsonl").read_text().splitlines()[0]
CHILD_NIN = json.loads(FIRST)["data"]["child"]["nin"]
CHILD_NAME = json.loads(FIRST)["data"]["child"]["name"]


def _settings() -> Settings:
    return load_settings(ROOT / "config" / "demo.toml")


def _rejected(payload: str, **ids: str) -> RejectedRecord:
    return RejectedRecord(
        reason="refused for the test", payload=payload, source=EventSource.FILE, **ids
    )


async def _seed(store: Store) -> dict[str, int]:
    """One row of each kind that holds the child's nin and name."""
    rows = {
        "unparseable": await store.events.insert_rejected(_rejected(FIRST[:-40])),
        "unknown_tenant": await store.events.insert_rejected(
            _rejected(FIRST.replace('"modum"', '"nosuch"'), tenant="nosuch")
        ),
        "modum": await store.events.insert_rejected(
            _rejected(FIRST, tenant="modum", case_id="BTI-2026-0042")
        ),
    }
    raw = json.loads(FIRST)
    held = InboundEvent.model_validate(
        {
            **{k: raw[k] for k in ("event_id", "tenant", "case_id", "sequence", "type")},
            "occurred_at": raw["occurred_at"],
            "payload": FIRST,
            "content_hash": "h1",
            "source": EventSource.FILE,
        }
    )
    assert await store.events.insert_event(held) is InsertOutcome.ACCEPTED
    [row] = await store.events.events_for_case("modum", "BTI-2026-0042")
    await store.events.set_event_state(row.id, EventState.HELD, "no consent covers skole")
    rows["held"] = row.id
    return rows


async def test_stale_rejected_and_held_events_are_cut_to_their_ids_whatever_they_name(
    store: Store,
) -> None:
    """After 30 days no rejected or held row keeps the nin or name: an unparseable line and
    an unknown tenant's event included; a held event keeps its ids and becomes rejected,
    and each tenant's cut is audited."""
    rows = await _seed(store)
    settings = _settings()
    stored = [await store.events.get_event(i) for i in rows.values()]
    received = max(r.received_at for r in stored if r is not None)

    early = await purge_expired_cases(store, settings, received + timedelta(days=29))
    assert (early.rejected_cut, early.held_cut) == (0, 0)

    report = await purge_expired_cases(store, settings, received + timedelta(days=31))
    assert (report.rejected_cut, report.held_cut) == (3, 1)
    for name, row_id in rows.items():
        row = await store.events.get_event(row_id)
        assert row is not None
        assert CHILD_NIN not in row.payload, name
        assert CHILD_NAME not in row.payload, name
        assert row.state is EventState.REJECTED, name
    held = await store.events.get_event(rows["held"])
    assert held is not None
    assert held.reason == HELD_CUT_REASON
    assert json.loads(held.payload)["event_id"] == json.loads(FIRST)["event_id"]
    actions = [(a.action, a.tenant) for a in await store.audit.list_audit()]
    assert ("purge-stale-events", "modum") in actions
    assert ("purge-stale-events", None) in actions

    again = await purge_expired_cases(store, settings, received + timedelta(days=60))
    assert (again.rejected_cut, again.held_cut) == (0, 0)
