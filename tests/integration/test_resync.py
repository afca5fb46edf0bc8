"""Resync and reconcile through the library, on SQLite and PostgreSQL, the mock in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from adapter.jobs.reconcile import Reconcile
from adapter.resync import case_keys, reconcile, resync
from adapter.store import Store
from tests.integration.conftest import FakeClock
from tests.support.remote_state import duplicates, normalize
from tests.support.resync_world import ACTOR, World, open_world


@pytest.fixture
async def world(store: Store, sqlite_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """A runtime over the store and an in-process mock, the Vardø case drained."""
    async with open_world(store, sqlite_url, clock) as opened:
        yield opened


async def test_a_wiped_remote_with_a_transferred_plan_is_rebuilt_exactly(
    world: World,
) -> None:
    """Stafettlogg, transfer, IP and archive return as they were; a second pass sends nothing."""
    rt, admin = world.rt, world.admin
    before = await world.state()
    assert {p["planTypeId"] for p in before["samspill"]["plans"]} == {
        "stafettlogg",
        "individuell-plan",
    }
    (await admin.post("/_mock/reset")).raise_for_status()
    keys = await case_keys(rt.store)
    report = await resync(rt, keys, actor=ACTOR, selection={"all": True}, max_wait_s=0)
    assert report.cases == 1 and report.created > 0 and report.reported == []
    assert report.actions == []  # kept only for a dry-run: memory does not grow with cases
    after = await world.state()
    assert duplicates(after) == []
    assert normalize(after) == normalize(before)
    sent = await world.writes()
    again = await resync(rt, keys, actor=ACTOR, max_wait_s=0)
    assert (again.created, again.updated, again.adopted) == (0, 0, 0)
    assert await world.writes() == sent
    audit = [(a.action, a.actor, a.reason, a.case_id) for a in await rt.store.audit.list_audit()]
    assert audit == [
        ("resync.case", "tester", "a test", "BS-2026-0007"),
        ("resync.run", "tester", "a test", None),
        ("resync.run", "tester", "a test", None),  # the second pass changed no case
    ]
    first_run = next(a for a in await rt.store.audit.list_audit() if a.action == "resync.run")
    assert first_run.details["all"] is True and first_run.details["dry_run"] is False
    assert first_run.details["created"] == report.created
    case_row = (await rt.store.audit.list_audit(case_id="BS-2026-0007"))[0]
    assert case_row.details["requeued"] == report.created + report.updated


async def test_a_dry_run_hands_its_actions_out_per_batch_and_keeps_none(world: World) -> None:
    """Dry-run with a consumer: the actions go to it batch by batch, none stay in the
    report; nothing is written but the run's audit row."""
    (await world.admin.post("/_mock/reset")).raise_for_status()
    batches: list[list[dict[str, object]]] = []
    keys = await case_keys(world.rt.store)
    report = await resync(
        world.rt, keys, actor=ACTOR, dry_run=True, on_actions=batches.append, max_wait_s=0
    )
    assert report.actions == [] and len(batches) == 1
    assert len(batches[0]) == report.created + report.updated
    assert await world.writes() == 0
    assert [a.action for a in await world.rt.store.audit.list_audit()] == ["resync.run"]


async def test_the_service_reconcile_job_records_drift_per_tenant_and_kind(
    world: World,
) -> None:
    """IP drift sets the reconcile tick's gauge, cleared after resync; --since picks cases."""
    rt, admin = world.rt, world.admin
    assert await case_keys(rt.store, since=date(2100, 1, 1)) == []
    assert len(await case_keys(rt.store, since=date(2000, 1, 1))) == 1
    ip = await world.plan("individuell-plan")
    goal = next(g for g in ip["goals"] if g["externalReference"].endswith(":goal:G2"))
    deleted = await admin.delete(f"/_mock/samspill/plans/{ip['planId']}/goals/{goal['id']}")
    deleted.raise_for_status()
    job = Reconcile(rt)
    await job.run()
    sample = {"tenant": "vardo", "kind": "goal"}
    assert rt.metrics.registry.get_sample_value("stafett_reconcile_drift_items", sample) == 1
    drift = (await reconcile(rt)).drift
    assert [(d["item"], d["problem"]) for d in drift] == [("ip/goal:G2", "missing remotely")]

    await resync(rt, await case_keys(rt.store, tenant="vardo"), actor=ACTOR, max_wait_s=0)
    await job.run()
    assert (await reconcile(rt)).drift == []
    assert rt.metrics.registry.get_sample_value("stafett_reconcile_drift_items", sample) is None
