"""The inbox table on every backend: idempotent inserts, conflicts, rejected rows, queries."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from adapter.errors import StoreError
from adapter.store import (
    CaseKey,
    EventSource,
    EventState,
    InboundEvent,
    InsertOutcome,
    RejectedRecord,
    Store,
)


def event(
    seq: int = 1, *, case: str = "BTI-1", tenant: str = "modum", **over: object
) -> InboundEvent:
    """A valid inbound event; `event_id` and hash derive from the case and sequence."""
    base: dict[str, object] = {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{case}/{seq}")),
        "tenant": tenant,
        "case_id": case,
        "sequence": seq,
        "type": "goal.set",
        "occurred_at": datetime(2026, 11, 2, 10, 15, tzinfo=UTC),
        "payload": f'{{"sequence": {seq}}}',
        "content_hash": f"hash-{tenant}-{case}-{seq}",
        "source": EventSource.FILE,
        "source_ref": "events.jsonl",
        "line": seq,
    }
    base.update(over)
    return InboundEvent.model_validate(base)


async def test_new_event_is_accepted_and_stored_as_received(store: Store) -> None:
    """A new event is stored `accepted` with its raw payload and aware timestamps."""
    rec = event(payload='{"raw":  "as received"}')
    assert await store.events.insert_event(rec) is InsertOutcome.ACCEPTED
    [row] = await store.events.events_for_case("modum", "BTI-1")
    assert row.state is EventState.ACCEPTED
    assert row.payload == '{"raw":  "as received"}'
    assert row.event_id == rec.event_id
    assert row.occurred_at == rec.occurred_at
    assert row.received_at.tzinfo is not None


async def test_same_event_twice_is_a_duplicate_and_adds_nothing(store: Store) -> None:
    """Inserting the same event again reports duplicate and leaves one row."""
    rec = event()
    await store.events.insert_event(rec)
    assert await store.events.insert_event(rec) is InsertOutcome.DUPLICATE
    counts = await store.events.count_events_by_state()
    assert sum(counts.values()) == 1


async def test_same_id_with_other_content_is_a_conflict_stored_rejected(store: Store) -> None:
    """Same event_id with another content hash: conflict, kept as a rejected row naming event_id."""
    rec = event()
    await store.events.insert_event(rec)
    other = rec.model_copy(update={"content_hash": "changed", "payload": "{}"})
    assert await store.events.insert_event(other) is InsertOutcome.CONFLICT
    [rejected] = await store.events.list_events(EventState.REJECTED)
    assert rejected.field == "event_id"
    assert rejected.event_id == rec.event_id
    assert rejected.reason is not None and "conflict" in rejected.reason
    [kept] = await store.events.events_for_case("modum", "BTI-1")
    assert kept.content_hash == rec.content_hash


async def test_one_event_id_in_two_tenants_is_two_events(store: Store) -> None:
    """An event id is unique within its tenant: another tenant's copy neither conflicts with
    nor blocks it, whichever arrives first."""
    vardo = event(tenant="vardo")
    squatter = vardo.model_copy(
        update={"tenant": "modum", "content_hash": "other", "payload": "{}"}
    )
    assert await store.events.insert_event(squatter) is InsertOutcome.ACCEPTED
    assert await store.events.insert_event(vardo) is InsertOutcome.ACCEPTED
    assert await store.events.insert_event(vardo) is InsertOutcome.DUPLICATE
    assert await store.events.list_events(EventState.REJECTED) == []
    [mine] = await store.events.events_for_case("vardo", "BTI-1")
    assert mine.content_hash == vardo.content_hash


async def test_same_sequence_with_other_id_is_a_conflict(store: Store) -> None:
    """Another event_id on a taken case sequence: conflict, rejected row naming `sequence`."""
    await store.events.insert_event(event(1))
    intruder = event(1, event_id=str(uuid.uuid4()), content_hash="other")
    assert await store.events.insert_event(intruder) is InsertOutcome.CONFLICT
    [rejected] = await store.events.list_events(EventState.REJECTED)
    assert rejected.field == "sequence"
    assert rejected.event_id == intruder.event_id


async def test_repeating_a_conflict_stores_its_rejection_once(store: Store) -> None:
    """The same conflicting event twice yields two CONFLICT outcomes but one rejected row."""
    await store.events.insert_event(event())
    other = event(content_hash="changed")
    assert await store.events.insert_event(other) is InsertOutcome.CONFLICT
    assert await store.events.insert_event(other) is InsertOutcome.CONFLICT
    assert len(await store.events.list_events(EventState.REJECTED)) == 1


async def test_concurrent_inserts_of_one_event_accept_it_once(store: Store) -> None:
    """Eight concurrent inserts of one event: exactly one accepted, the rest duplicates."""
    rec = event()
    outcomes = await asyncio.gather(*(store.events.insert_event(rec) for _ in range(8)))
    assert sorted(outcomes) == sorted([InsertOutcome.ACCEPTED] + [InsertOutcome.DUPLICATE] * 7)
    assert len(await store.events.events_for_case("modum", "BTI-1")) == 1


async def test_concurrent_inserts_on_one_sequence_accept_exactly_one(store: Store) -> None:
    """Concurrent different events on one case sequence: one accepted, the others conflicts."""
    recs = [event(1, event_id=str(uuid.uuid4()), content_hash=f"h{i}") for i in range(6)]
    outcomes = await asyncio.gather(*(store.events.insert_event(r) for r in recs))
    assert outcomes.count(InsertOutcome.ACCEPTED) == 1
    assert outcomes.count(InsertOutcome.CONFLICT) == 5
    assert len(await store.events.list_events(EventState.REJECTED)) == 5


async def test_rejected_input_is_stored_with_line_field_and_reason(store: Store) -> None:
    """A rejected line keeps its line number, field, reason, raw text and source."""
    row_id = await store.events.insert_rejected(
        RejectedRecord(
            reason="unknown field 'colour'",
            field="data.colour",
            line=7,
            payload="{not json",
            source=EventSource.FILE,
            source_ref="batch.jsonl",
        )
    )
    stored = await store.events.get_event(row_id)
    assert stored is not None
    assert (stored.state, stored.line, stored.field, stored.reason) == (
        EventState.REJECTED,
        7,
        "data.colour",
        "unknown field 'colour'",
    )
    assert (stored.payload, stored.source_ref, stored.event_id) == (
        "{not json",
        "batch.jsonl",
        None,
    )


async def test_a_rejected_event_does_not_block_a_later_valid_one(store: Store) -> None:
    """A rejected row with an id and sequence leaves both free for a valid event."""
    rec = event()
    await store.events.insert_rejected(
        RejectedRecord(
            reason="bad nin",
            field="data.child.nin",
            event_id=rec.event_id,
            tenant="modum",
            case_id="BTI-1",
            sequence=1,
            payload="{}",
            source=EventSource.PUSH,
        )
    )
    assert await store.events.insert_event(rec) is InsertOutcome.ACCEPTED


async def test_set_event_state_records_reason_and_planned_time(store: Store) -> None:
    """Held keeps its reason; planned stamps `planned_at` from the store clock."""
    await store.events.insert_event(event(1))
    await store.events.insert_event(event(2))
    first, second = await store.events.events_for_case("modum", "BTI-1")
    await store.events.set_event_state(first.id, EventState.PLANNED)
    await store.events.set_event_state(
        second.id, EventState.HELD, "no consent covers service skole"
    )
    [held] = await store.events.list_events(EventState.HELD, tenant="modum")
    assert held.reason == "no consent covers service skole"
    planned = await store.events.get_event(first.id)
    assert planned is not None and planned.planned_at is not None


async def test_set_event_state_of_a_missing_event_raises(store: Store) -> None:
    """Changing the state of an id that does not exist is a StoreError, not a silent no-op."""
    with pytest.raises(StoreError):
        await store.events.set_event_state(999, EventState.PLANNED)


async def test_events_for_case_come_in_sequence_order(store: Store) -> None:
    """A case's events come back ordered by sequence, whatever the arrival order."""
    for seq in (3, 1, 2):
        await store.events.insert_event(event(seq))
    assert [e.sequence for e in await store.events.events_for_case("modum", "BTI-1")] == [1, 2, 3]


async def test_counts_and_work_lists_are_per_state_and_tenant(store: Store) -> None:
    """Counts by state (all states present) and by tenant; cases with accepted events listed."""
    await store.events.insert_event(event(1, case="A"))
    await store.events.insert_event(event(1, case="B", tenant="vardo"))
    await store.events.insert_rejected(
        RejectedRecord(reason="not JSON", payload="x", source=EventSource.FILE, line=1)
    )
    counts = await store.events.count_events_by_state()
    assert counts == {
        EventState.ACCEPTED: 2,
        EventState.HELD: 0,
        EventState.PLANNED: 0,
        EventState.REJECTED: 1,
    }
    assert (await store.events.count_events_by_state("vardo"))[EventState.ACCEPTED] == 1
    by_tenant = await store.events.event_counts_by_tenant()
    assert set(by_tenant) == {"modum", "vardo"}
    assert by_tenant["modum"][EventState.ACCEPTED] == 1
    assert await store.events.cases_with_events() == [
        CaseKey(tenant="modum", case_id="A"),
        CaseKey(tenant="vardo", case_id="B"),
    ]
    assert await store.events.cases_with_events(tenant="vardo") == [
        CaseKey(tenant="vardo", case_id="B")
    ]
