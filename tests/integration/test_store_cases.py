"""Cases (optimistic lock, atomic planning step), links, cursors and audit on every backend."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapter.errors import StoreError
from adapter.planning.operations import Operation, OpKind, op_ref
from adapter.store import (
    CaseVersionConflict,
    EventSource,
    EventState,
    EventStateChange,
    InboundEvent,
    PlanCommit,
    Store,
    Target,
)
from tests.integration.conftest import FakeClock


def create_goal(goal: str) -> Operation:
    return Operation(
        op_ref=op_ref("modum", "C1", "goal", goal),
        tenant="modum",
        case_id="C1",
        target=Target.SAMSPILL,
        kind=OpKind.CREATE_GOAL,
        link=f"goal:{goal}",
        payload={"title": "Mål"},
    )


async def stored_event(store: Store, seq: int = 1) -> int:
    await store.events.insert_event(
        InboundEvent(
            event_id=str(uuid.uuid4()),
            tenant="modum",
            case_id="C1",
            sequence=seq,
            type="goal.set",
            occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
            payload="{}",
            content_hash=f"h{seq}",
            source=EventSource.FEED,
        )
    )
    return (await store.events.events_for_case("modum", "C1"))[seq - 1].id


async def test_case_state_is_saved_with_a_version_check(store: Store) -> None:
    """Saving needs the version that was loaded; a stale writer gets CaseVersionConflict."""
    assert await store.cases.load_case("modum", "C1") is None
    v1 = await store.cases.save_case(
        "modum", "C1", state='{"goals": []}', expected_version=None, last_sequence_planned=1
    )
    v2 = await store.cases.save_case(
        "modum", "C1", state='{"goals": ["G1"]}', expected_version=v1, last_sequence_planned=2
    )
    with pytest.raises(CaseVersionConflict):
        await store.cases.save_case(
            "modum", "C1", state="{}", expected_version=v1, last_sequence_planned=2
        )
    with pytest.raises(CaseVersionConflict):
        await store.cases.save_case(
            "modum", "C1", state="{}", expected_version=None, last_sequence_planned=1
        )
    case = await store.cases.load_case("modum", "C1")
    assert case is not None
    assert (case.version, case.state, case.last_sequence_planned) == (v2, '{"goals": ["G1"]}', 2)


async def test_commit_plan_writes_state_events_and_operations_together(store: Store) -> None:
    """One planning step stores the case, marks its events and appends operations at once."""
    event_row = await stored_event(store)
    version = await store.cases.commit_plan(
        PlanCommit(
            tenant="modum",
            case_id="C1",
            expected_version=None,
            state="{}",
            last_sequence_planned=1,
            events=(EventStateChange(id=event_row, state=EventState.PLANNED),),
            operations=(create_goal("G1"),),
        )
    )
    assert version == 1
    [planned] = await store.events.events_for_case("modum", "C1")
    assert planned.state is EventState.PLANNED
    assert [o.op_ref for o in await store.outbox.operations_for_case("modum", "C1")] == [
        create_goal("G1").op_ref
    ]


async def test_a_stale_commit_plan_writes_nothing(store: Store) -> None:
    """A planning step on an outdated version fails whole: no event change, no operation."""
    event_row = await stored_event(store)
    await store.cases.save_case(
        "modum", "C1", state="{}", expected_version=None, last_sequence_planned=0
    )
    stale = PlanCommit(
        tenant="modum",
        case_id="C1",
        expected_version=None,
        state="{}",
        last_sequence_planned=1,
        events=(EventStateChange(id=event_row, state=EventState.PLANNED),),
        operations=(create_goal("G1"),),
    )
    with pytest.raises(CaseVersionConflict):
        await store.cases.commit_plan(stale)
    [still] = await store.events.events_for_case("modum", "C1")
    assert still.state is EventState.ACCEPTED
    assert await store.outbox.operations_for_case("modum", "C1") == []


async def test_commit_plan_naming_a_missing_event_rolls_back(store: Store) -> None:
    """A planning step that names an event that does not exist changes nothing."""
    with pytest.raises(StoreError):
        await store.cases.commit_plan(
            PlanCommit(
                tenant="modum",
                case_id="C1",
                expected_version=None,
                state="{}",
                last_sequence_planned=1,
                events=(EventStateChange(id=4242, state=EventState.PLANNED),),
                operations=(create_goal("G1"),),
            )
        )
    assert await store.cases.load_case("modum", "C1") is None
    assert await store.outbox.operations_for_case("modum", "C1") == []


async def test_links_are_per_case_and_target_and_can_be_repointed(store: Store) -> None:
    """A link is found by case, target and key only; putting it again re-points it."""
    await store.links.put_link("modum", "C1", Target.SAMSPILL, "goal:G1", "a")
    await store.links.put_link("modum", "C2", Target.SAMSPILL, "goal:G1", "b")
    assert await store.links.get_link("modum", "C1", Target.P360, "goal:G1") is None
    await store.links.put_link("modum", "C1", Target.SAMSPILL, "goal:G1", "c")
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "c"
    assert await store.links.links_for_case("modum", "C2") == {(Target.SAMSPILL, "goal:G1"): "b"}


async def test_cursors_remember_value_and_when_they_moved(store: Store, clock: FakeClock) -> None:
    """A cursor is per tenant and name; setting it again replaces value and time."""
    assert await store.cursors.get_cursor("modum", "feed") is None
    await store.cursors.set_cursor("modum", "feed", "c1")
    clock.advance(60)
    await store.cursors.set_cursor("modum", "feed", "c2")
    await store.cursors.set_cursor("vardo", "feed", "v1")
    assert await store.cursors.get_cursor("modum", "feed") == "c2"
    [modum] = await store.cursors.list_cursors("modum")
    assert (modum.value, modum.updated_at) == ("c2", clock.now)
    assert len(await store.cursors.list_cursors()) == 2


async def test_audit_entries_keep_actor_reason_and_details(store: Store, clock: FakeClock) -> None:
    """An audit entry is stored with its time, actor, subject, reason and JSON details."""
    await store.audit.write_audit(
        "parked.skip",
        actor="operatør",
        tenant="modum",
        case_id="C1",
        subject="stafett:modum:C1:goal:G1",
        reason="duplikat",
        details={"op_id": 3},
    )
    await store.audit.write_audit("resync", actor="service", tenant="vardo")
    [entry] = await store.audit.list_audit(tenant="modum", case_id="C1")
    assert (entry.at, entry.actor, entry.action, entry.reason) == (
        clock.now,
        "operatør",
        "parked.skip",
        "duplikat",
    )
    assert entry.details == {"op_id": 3}
    assert len(await store.audit.list_audit()) == 2
