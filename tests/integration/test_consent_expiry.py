"""A consent that runs out while the case is quiet: the expiry job ends it on time.

The Vardø example case goes to its IP; then no event comes. Once the Oslo date passes
C1's `valid_to` (2027-02-15), `run --once` (its expiry job) stores one internal
`consent.expired` event, the planner ends the consent on the IP and removes the service
participants only it covered; running again stores and sends nothing more.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adapter.jobs.expiry import store_expiries
from adapter.planning import CaseState
from adapter.service import _Ticks
from adapter.store.states import EventSource, EventState
from tests.integration.test_transfer_saga import CASE, Saga, saga, vardo_events
from tests.support.remote_state import duplicates

__all__ = ["saga"]

AFTER_VALID_TO = datetime(2027, 2, 15, 23, 30, tzinfo=UTC)  # 2027-02-16 00:30 in Oslo
LAST_VALID_DAY = datetime(2027, 2, 15, 22, 30, tzinfo=UTC)  # 2027-02-15 23:30 in Oslo


def _ip(state: dict[str, Any]) -> dict[str, Any]:
    (ip,) = [p for p in state["samspill"]["plans"] if p["planTypeId"] == "individuell-plan"]
    return dict(ip)


def _writes(state: dict[str, Any]) -> int:
    return sum(
        1
        for r in state["requests"]
        if r["method"] in {"POST", "PATCH", "PUT", "DELETE"} and r["path"].startswith("/samspill")
    )


async def test_a_quiet_case_s_consent_expires_on_the_day_after_valid_to(saga: Saga) -> None:
    """No event after valid_to: the job's internal event ends C1 and its participants."""
    await saga.feed(vardo_events())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    ip = _ip(await saga.remote())
    assert [c["status"] for c in ip["consents"]] == ["active"]

    saga.clock.now = LAST_VALID_DAY  # valid_to is inclusive: nothing yet
    report = await saga.drain(rt)
    assert report.events_planned == 0

    saga.clock.now = AFTER_VALID_TO
    before = _writes(await saga.remote())
    report = await saga.drain(rt)
    assert (report.events_planned, report.operations_pending, report.parked_cases) == (1, 0, 0)
    state = await saga.remote()
    ip = _ip(state)
    assert [c["status"] for c in ip["consents"]] == ["expired"]
    people = {(p["roleId"], p["affiliationId"]) for p in ip["participants"]}
    # the services went with the only consent; the coordinator (who leads it) stays
    assert people == {("foresatt", None), ("leder", "psykisk-helse")}
    assert duplicates(state) == []

    (internal,) = [
        e
        for e in await saga.store.events.events_for_case("vardo", CASE)
        if e.source is EventSource.INTERNAL
    ]
    assert (internal.type, internal.state) == ("consent.expired", EventState.PLANNED)
    record = await saga.store.cases.load_case("vardo", CASE)
    assert record is not None
    assert CaseState.model_validate_json(record.state).consents["C1"].status.value == "expired"

    writes = _writes(state)
    assert writes > before
    again = await saga.drain(rt)  # the job runs again: nothing new is stored or sent
    assert (again.events_planned, again.operations_done) == (0, 0)
    assert _writes(await saga.remote()) == writes
    await rt.close()


async def test_the_expiry_job_stores_one_event_however_often_it_runs(saga: Saga) -> None:
    """Two runs before the planner: the second finds the first's event and stores nothing."""
    await saga.feed(vardo_events())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    today = date(2027, 2, 16)
    first = await store_expiries(saga.store, rt.lookup, today)
    second = await store_expiries(saga.store, rt.lookup, today)
    assert (first.stored, second.stored, second.already_stored) == (1, 0, 1)
    rejected = await saga.store.events.list_events(EventState.REJECTED)
    assert rejected == []
    await rt.close()


async def test_the_service_s_expiry_tick_stores_the_event(saga: Saga) -> None:
    """`stafett run` fires the same job on its scheduler (as a periodic singleton)."""
    await saga.feed(vardo_events())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    saga.clock.now = AFTER_VALID_TO
    await _Ticks(rt).as_mapping()["expiry"]()
    stored = await saga.store.events.events_for_case("vardo", CASE)
    assert [(e.type, e.state) for e in stored if e.source is EventSource.INTERNAL] == [
        ("consent.expired", EventState.ACCEPTED)
    ]
    await rt.close()
