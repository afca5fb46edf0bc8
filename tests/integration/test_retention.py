"""Retention: a closed case's names and nins leave the store once its time has passed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from adapter.jobs.retention import purge_expired_cases
from adapter.planning import CaseState
from adapter.resync import case_keys, reconcile, resync
from adapter.service import _Ticks
from adapter.store.audit_repo import Actor
from adapter.store.states import EventState
from adapter.store.tables import cases, events, operations
from tests.integration.test_transfer_saga import Saga, saga
from tests.support.engine import example_events, people_of
from tests.support.remote_state import is_write

__all__ = ["saga"]

CASE = "BTI-2026-0042"  # closed 2026-06-10T10:30+02:00; Modum keeps 365 days
BEFORE_DUE = datetime(2027, 6, 10, 8, 0, tzinfo=UTC)
AFTER_DUE = datetime(2027, 6, 10, 9, 0, tzinfo=UTC)


def _modum() -> list[dict[str, Any]]:
    return [e for e in example_events("modum") if e["case_id"] == CASE]


async def _stored_text(saga: Saga) -> str:
    """Every stored column that could hold personal data, of the case, as one text."""
    async with saga.store.engine.connect() as conn:
        parts: list[str] = []
        for table in (events, operations):
            rows = await conn.execute(
                select(table).where(table.c.tenant == "modum", table.c.case_id == CASE)
            )
            parts.extend(json.dumps(r._asdict(), default=str) for r in rows)
        rows = await conn.execute(select(cases.c.state).where(cases.c.case_id == CASE))
        parts.extend(r.state for r in rows)
    return "\n".join(parts)


async def test_a_closed_case_is_purged_after_its_retention_days(saga: Saga) -> None:
    """Before the day nothing changes; after it no name or nin is left, ids and audit stay."""
    await saga.feed(_modum())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    nins, names = people_of(_modum())
    before = await _stored_text(saga)
    assert [n for n in nins if n in before] != []

    early = await purge_expired_cases(saga.store, saga.settings, BEFORE_DUE)
    assert early.purged == 0
    report = await purge_expired_cases(saga.store, saga.settings, AFTER_DUE)
    assert (report.purged, report.waiting) == (1, 0)

    text = await _stored_text(saga)
    assert [n for n in nins if n in text] == []
    assert [n for n in names if n in text] == []
    record = await saga.store.cases.load_case("modum", CASE)
    assert record is not None and record.purged_at is not None
    state = CaseState.model_validate_json(record.state)
    assert (state.purged, state.closed, state.last_sequence) == (True, True, 57)
    stored = await saga.store.events.events_for_case("modum", CASE)
    assert [e.sequence for e in stored] == list(range(1, 58))  # ids and order stay
    assert {e.state for e in stored} == {EventState.PLANNED}
    (entry,) = [a for a in await saga.store.audit.list_audit("modum", CASE) if a.action == "purge"]
    assert (entry.actor, entry.details["events"]) == ("service", 57)

    again = await purge_expired_cases(saga.store, saga.settings, AFTER_DUE)
    assert again.purged == 0
    await rt.close()


async def test_late_minutes_for_a_purged_case_are_rejected_with_the_reason(saga: Saga) -> None:
    """Nothing can be archived for the child any more: the event is refused, and says why."""
    await saga.feed(_modum())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    await purge_expired_cases(saga.store, saga.settings, AFTER_DUE)
    late = {**_modum()[52], "event_id": "5d1b3a57-0000-4000-8000-0000000000aa", "sequence": 58}
    await saga.feed([late])
    await saga.drain(rt)
    (refused,) = await saga.store.events.list_events(EventState.REJECTED)
    assert refused.reason == "case is closed and its personal data purged (retention)"
    await rt.close()


async def test_a_case_with_parked_work_is_not_purged_until_it_is_resolved(saga: Saga) -> None:
    """A parked operation still needs its payload: the purge waits for the operator."""
    await saga.fault(r"DocumentService/CreateDocument$", {"p360_error": "Validation: bad"}, 1)
    await saga.feed(_modum())
    rt = await saga.runtime("first")
    report = await saga.drain(rt)
    assert report.parked_cases == 1
    waiting = await purge_expired_cases(saga.store, saga.settings, AFTER_DUE)
    assert (waiting.purged, waiting.waiting) == (0, 1)
    await rt.close()


async def test_the_service_s_retention_tick_purges(saga: Saga) -> None:
    """`stafett run` fires the same job on its scheduler (as a periodic singleton)."""
    await saga.feed(_modum())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    saga.clock.now = AFTER_DUE
    await _Ticks(rt).as_mapping()["retention"]()
    record = await saga.store.cases.load_case("modum", CASE)
    assert record is not None and record.purged_at is not None
    await rt.close()


async def test_resync_and_reconcile_leave_a_purged_case_alone(saga: Saga) -> None:
    """Nothing can be replayed from a purged case: no write, no drift reported for it."""
    await saga.feed(_modum())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    await purge_expired_cases(saga.store, saga.settings, AFTER_DUE)
    before = len((await saga.remote())["requests"])
    drift = await reconcile(rt)
    assert [d for d in drift.drift if d["case_id"] == CASE] == []
    keys = await case_keys(saga.store)
    report = await resync(rt, keys, actor=Actor("test", "retention test"))
    assert (report.created, report.updated) == (0, 0)
    after = (await saga.remote())["requests"][before:]
    assert [r for r in after if is_write(r["method"], r["path"])] == []
    record = await saga.store.cases.load_case("modum", CASE)
    assert record is not None and CaseState.model_validate_json(record.state).purged
    assert [e for e in await saga.store.events.list_events(EventState.REJECTED)] == []
    await rt.close()
