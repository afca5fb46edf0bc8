"""The planning step's ports (`InboxReader`, `Cases`) and the inbox's insert: one suite on
the memory, SQLite and PostgreSQL stores (PostgreSQL when STAFETT_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapter.errors import StoreError
from adapter.store import (
    CaseKey,
    CaseVersionConflict,
    EventSource,
    EventState,
    EventStateChange,
    InboundEvent,
    InsertOutcome,
    PlanCommit,
    Store,
)
from adapter.store.memory import MemoryStore
from tests.support.outbox import queued

Ports = MemoryStore | Store
A = InsertOutcome.ACCEPTED


def event(
    seq: int,
    *,
    event_id: str | None = None,
    case: str = "C1",
    tenant: str = "modum",
    content: str = "a",
    source: EventSource = EventSource.FEED,
) -> InboundEvent:
    """Event number `seq` of a case (its id derived from case and sequence unless given)."""
    return InboundEvent(
        event_id=event_id or f"{tenant}-{case}-{seq}",
        tenant=tenant,
        case_id=case,
        sequence=seq,
        type="goal.set",
        occurred_at=datetime(2026, 11, 2, 9, seq, tzinfo=UTC),
        payload="{}",
        content_hash=f"{content}{seq}",
        source=source,
    )


def commit(rows: tuple[int, ...] = (), *, expected: int | None = None, ops: int = 0) -> PlanCommit:
    return PlanCommit(
        tenant="modum",
        case_id="C1",
        expected_version=expected,
        state='{"v": 1}',
        last_sequence_planned=len(rows),
        events=tuple(EventStateChange(id=r, state=EventState.PLANNED) for r in rows),
        operations=tuple(queued(n) for n in range(1, ops + 1)),
    )


async def test_an_event_is_stored_once_and_a_conflict_is_kept_rejected(ports: Ports) -> None:
    """Same event again: duplicate. Same id, other content; or the sequence taken by another
    id: conflict, kept as a rejected row (once) outside the case's live events."""
    assert await ports.events.insert_events([event(1), event(2)]) == [A, A]
    assert await ports.events.insert_event(event(1)) is InsertOutcome.DUPLICATE
    changed = event(1, content="b")
    assert await ports.events.insert_event(changed) is InsertOutcome.CONFLICT
    assert await ports.events.insert_event(changed) is InsertOutcome.CONFLICT
    other = event(2, event_id="someone-else")
    assert await ports.events.insert_event(other) is InsertOutcome.CONFLICT
    live = await ports.events.events_for_case("modum", "C1")
    assert [(e.event_id, e.state) for e in live] == [
        ("modum-C1-1", EventState.ACCEPTED),
        ("modum-C1-2", EventState.ACCEPTED),
    ]
    every = await ports.events.events_for_case("modum", "C1", include_rejected=True)
    rejected = [(e.event_id, e.field) for e in every if e.state is EventState.REJECTED]
    assert sorted(rejected) == [("modum-C1-1", "event_id"), ("someone-else", "sequence")]


async def test_an_internal_event_follows_a_sequence_without_taking_it(ports: Ports) -> None:
    """A `consent.expired` carries the case's last sequence: accepted beside that event."""
    await ports.events.insert_event(event(1))
    internal = event(1, event_id="expiry-1", source=EventSource.INTERNAL)
    assert await ports.events.insert_event(internal) is A
    assert len(await ports.events.events_for_case("modum", "C1")) == 2


async def test_the_work_list_names_cases_with_accepted_events_sorted(ports: Ports) -> None:
    """`cases_with_events` lists each case with events in the states asked, per tenant."""
    await ports.events.insert_events(
        [event(1, case="C2"), event(1), event(2), event(1, tenant="vardo")]
    )
    keys = await ports.events.cases_with_events((EventState.ACCEPTED,))
    assert keys == [
        CaseKey(tenant="modum", case_id="C1"),
        CaseKey(tenant="modum", case_id="C2"),
        CaseKey(tenant="vardo", case_id="C1"),
    ]
    assert await ports.events.cases_with_events((EventState.ACCEPTED,), "vardo") == [keys[2]]
    assert await ports.events.cases_with_events((EventState.HELD,)) == []


async def test_events_come_in_sequence_order(ports: Ports) -> None:
    """A case's events in sequence order, whatever order they arrived in."""
    await ports.events.insert_events([event(3), event(1), event(2)])
    rows = await ports.events.events_for_case("modum", "C1")
    assert [e.sequence for e in rows] == [1, 2, 3]


async def test_a_planning_step_commits_state_events_and_operations_together(
    ports: Ports,
) -> None:
    """The case (version 1), its events planned and its operations appended, at once; the
    planned events leave the work list."""
    await ports.events.insert_events([event(1), event(2)])
    rows = tuple(e.id for e in await ports.events.events_for_case("modum", "C1"))
    assert await ports.cases.commit_plan(commit(rows, ops=2)) == 1
    case = await ports.cases.load_case("modum", "C1")
    assert case is not None and (case.version, case.state, case.last_sequence_planned) == (
        1,
        '{"v": 1}',
        2,
    )
    planned = await ports.events.events_for_case("modum", "C1")
    assert all(e.state is EventState.PLANNED and e.planned_at is not None for e in planned)
    assert await ports.events.cases_with_events((EventState.ACCEPTED,)) == []
    ops = await ports.outbox.operations_for_case("modum", "C1")
    assert [o.op_ref for o in ops] == [queued(1).op_ref, queued(2).op_ref]
    assert await ports.cases.commit_plan(commit(expected=1)) == 2


async def test_a_stale_planning_step_writes_nothing(ports: Ports) -> None:
    """Planned elsewhere meanwhile (the version moved, or the case was created): the step
    fails whole — no state, no event change, no operation."""
    await ports.events.insert_event(event(1))
    [row] = await ports.events.events_for_case("modum", "C1")
    await ports.cases.commit_plan(commit())
    with pytest.raises(CaseVersionConflict):
        await ports.cases.commit_plan(commit((row.id,), ops=1))  # "new", but it exists
    await ports.cases.commit_plan(commit(expected=1))
    with pytest.raises(CaseVersionConflict):
        await ports.cases.commit_plan(commit((row.id,), expected=1, ops=1))
    case = await ports.cases.load_case("modum", "C1")
    assert case is not None and case.version == 2
    [still] = await ports.events.events_for_case("modum", "C1")
    assert still.state is EventState.ACCEPTED
    assert await ports.outbox.operations_for_case("modum", "C1") == []


async def test_a_planning_step_naming_a_missing_event_changes_nothing(ports: Ports) -> None:
    """An event row that does not exist: `StoreError`, and no case, no operation."""
    with pytest.raises(StoreError):
        await ports.cases.commit_plan(commit((4242,), ops=1))
    assert await ports.cases.load_case("modum", "C1") is None
    assert await ports.outbox.operations_for_case("modum", "C1") == []
