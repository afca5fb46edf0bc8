"""Resync when the outbox (or the planner state) is not what the replay asks for — after a
planner upgrade or a divergent store — on SQLite and PostgreSQL, the mock in-process.

The divergence is made by deleting outbox rows or rewriting the stored state directly:
that is what an older planner that never asked for an operation leaves behind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete

from adapter.planning import CaseState
from adapter.resync import case_keys, reconcile, resync
from adapter.resync.converge import analyse_cases, apply_diff
from adapter.store import CaseVersionConflict, Store
from adapter.store.tables import operations
from tests.integration.conftest import FakeClock
from tests.support.remote_state import duplicates
from tests.support.resync_world import ACTOR, World, open_world

TENANT, CASE = "vardo", "BS-2026-0007"
PREFIX = f"stafett:{TENANT}:{CASE}"


@pytest.fixture
async def world(store: Store, sqlite_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """A runtime over the store and an in-process mock, the Vardø case drained."""
    async with open_world(store, sqlite_url, clock) as opened:
        yield opened


async def _forget(world: World, op_ref: str) -> None:
    """Delete one operation from the outbox, as if no planner had ever asked for it."""
    async with world.rt.store.engine.begin() as conn:
        assert (
            await conn.execute(delete(operations).where(operations.c.op_ref == op_ref))
        ).rowcount == 1


async def _delete_item(world: World, plan_type: str, collection: str, suffix: str) -> None:
    plan = await world.plan(plan_type)
    (item,) = [i for i in plan[collection] if i["externalReference"].endswith(suffix)]
    path = f"/_mock/samspill/plans/{plan['planId']}/{collection}/{item['id']}"
    (await world.admin.delete(path)).raise_for_status()


async def _ops(world: World) -> dict[str, int]:
    return {o.op_ref: o.id for o in await world.rt.store.outbox.operations_for_case(TENANT, CASE)}


async def test_an_operation_the_outbox_never_had_is_listed_then_created_after_the_stored_ones(
    world: World,
) -> None:
    """A goal missing remotely whose create was never queued: dry-run lists it and sends
    nothing; resync appends the create after the case's stored Samspill work and makes it."""
    ref = f"{PREFIX}:goal:G2"
    await _forget(world, ref)
    await _delete_item(world, "individuell-plan", "goals", ":goal:G2")
    assert {(d["item"], d["problem"]) for d in (await reconcile(world.rt)).drift} == {
        ("ip/goal:G2", "missing remotely (not in the outbox)")
    }
    keys = await case_keys(world.rt.store)
    sent = await world.writes()
    dry = await resync(world.rt, keys, actor=ACTOR, dry_run=True, max_wait_s=0)
    assert [(a["action"], a["item"]) for a in dry.actions] == [("create", "ip/goal:G2")]
    assert await world.writes() == sent and ref not in await _ops(world)

    done = await resync(world.rt, keys, actor=ACTOR, max_wait_s=0)
    assert (done.created, done.reported) == (1, [])
    stored = await _ops(world)
    assert stored[ref] == max(stored.values())
    goals = (await world.plan("individuell-plan"))["goals"]
    assert [g["externalReference"] for g in goals].count(ref) == 1
    again = await resync(world.rt, keys, actor=ACTOR, max_wait_s=0)
    assert (again.created, again.updated, again.adopted) == (0, 0, 0)


async def test_an_operation_the_outbox_never_had_whose_item_exists_is_adopted_without_a_write(
    world: World,
) -> None:
    """The goal is there; only its create is not in the outbox: it is inserted, looked up
    and adopted — no write is sent, and the outbox holds it done."""
    ref = f"{PREFIX}:goal:G2"
    await _forget(world, ref)
    sent = await world.writes()
    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert (report.created, report.adopted, report.reported) == (0, 1, [])
    assert await world.writes() == sent
    op = await world.rt.store.outbox.get_operation_by_ref(ref)
    assert op is not None and op.state.value == "done"
    assert duplicates(await world.state()) == []


async def test_an_operation_the_outbox_never_had_on_a_closed_plan_is_reported_not_sent(
    world: World,
) -> None:
    """A stafettlogg goal gone remotely whose create was never queued: the stafettlogg is
    closed here (transferred), so appending the create would write a closed plan: reported."""
    ref = f"{PREFIX}:goal:G1"
    await _forget(world, ref)
    await _delete_item(world, "stafettlogg", "goals", ":goal:G1")
    sent = await world.writes()
    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert [(r["item"], r["problem"]) for r in report.reported] == [
        ("goal:G1", "not in the outbox (its plan is closed here)")
    ]
    assert await world.writes() == sent and ref not in await _ops(world)


async def test_a_stored_planner_state_unlike_the_replay_is_replaced_by_it(world: World) -> None:
    """The stored state differs from the replay of the same events: resync stores the
    replayed one (the live planner goes on from it), and says so in the case's audit row."""
    record = await world.rt.store.cases.load_case(TENANT, CASE)
    assert record is not None
    replayed = CaseState.model_validate_json(record.state)
    diverged = replayed.model_copy(update={"notes": ("N-old",)})
    await world.rt.store.cases.save_case(
        TENANT,
        CASE,
        state=diverged.model_dump_json(),
        expected_version=record.version,
        last_sequence_planned=record.last_sequence_planned,
    )
    keys = await case_keys(world.rt.store)
    dry = await resync(world.rt, keys, actor=ACTOR, dry_run=True, max_wait_s=0)
    assert [(a["kind"], a["problem"]) for a in dry.actions] == [
        ("state", "stored planner state differs from the replay")
    ]
    await resync(world.rt, keys, actor=ACTOR, max_wait_s=0)
    stored = await world.rt.store.cases.load_case(TENANT, CASE)
    assert stored is not None and CaseState.model_validate_json(stored.state) == replayed
    rows = [
        a for a in await world.rt.store.audit.list_audit(TENANT, CASE) if a.action == "resync.case"
    ]
    assert [r.details["state_stored"] for r in rows] == [True]


async def test_a_case_planned_meanwhile_keeps_its_state_and_nothing_of_the_resync_is_written(
    world: World,
) -> None:
    """The replayed state was to be stored, but the live planner saved the case after the
    diff: the whole case change (and its audit row) is refused, so the planner wins."""
    record = await world.rt.store.cases.load_case(TENANT, CASE)
    assert record is not None
    state = CaseState.model_validate_json(record.state)
    await world.rt.store.cases.save_case(
        TENANT,
        CASE,
        state=state.model_copy(update={"notes": ("N-old",)}).model_dump_json(),
        expected_version=record.version,
        last_sequence_planned=record.last_sequence_planned,
    )
    await _forget(world, f"{PREFIX}:goal:G2")
    (diff,) = await analyse_cases(world.rt, await case_keys(world.rt.store))
    assert diff.state is not None and diff.stored is not None
    await world.rt.store.cases.save_case(
        TENANT,
        CASE,
        state=diff.stored.state,
        expected_version=diff.stored.version,
        last_sequence_planned=diff.stored.last_sequence_planned,
    )
    with pytest.raises(CaseVersionConflict):
        await apply_diff(world.rt.store, diff, ACTOR)
    assert f"{PREFIX}:goal:G2" not in await _ops(world)
    assert [a for a in await world.rt.store.audit.list_audit() if a.action == "resync.case"] == []
