"""Resync when only part of the remote state is gone, or was made elsewhere (Vardø: a
transferred stafettlogg and an open IP), on SQLite and PostgreSQL, the mock in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapter.resync import case_keys, reconcile, resync
from adapter.store import Store
from tests.integration.conftest import FakeClock
from tests.support.remote_state import duplicates, normalize
from tests.support.resync_world import ACTOR, World, open_world

IP_REF = "stafett:vardo:BS-2026-0007:plan:ip"
LOG_REF = "stafett:vardo:BS-2026-0007:plan:stafettlogg"


@pytest.fixture
async def world(store: Store, sqlite_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """A runtime over the store and an in-process mock, the Vardø case drained."""
    async with open_world(store, sqlite_url, clock) as opened:
        yield opened


async def _drift(world: World) -> set[tuple[str, str]]:
    return {(d["item"], d["problem"]) for d in (await reconcile(world.rt)).drift}


async def test_a_missing_stafettlogg_whose_ip_exists_is_reported_and_not_transferred_again(
    world: World,
) -> None:
    """Only the (closed) stafettlogg is gone: reconcile and resync report it; the IP and its
    items are left as they are; no write is sent, so no second IP."""
    before = await world.state()
    stafettlogg = await world.plan("stafettlogg")
    deleted = await world.admin.delete(f"/_mock/samspill/plans/{stafettlogg['planId']}")
    deleted.raise_for_status()
    gone = ("plan:stafettlogg", "missing remotely (closed: transferred to the IP)")
    assert await _drift(world) == {gone}

    sent = await world.writes()
    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert await world.writes() == sent
    assert (report.created, report.updated, report.adopted) == (0, 0, 0)
    assert [(r["item"], r["problem"]) for r in report.reported] == [gone]
    after = await world.state()
    assert duplicates(after) == []
    assert [p["externalReference"] for p in after["samspill"]["plans"]] == [IP_REF]
    ip_now, ip_before = normalize(after)["plans"][IP_REF], normalize(before)["plans"][IP_REF]
    assert ip_now.pop("transferredFromPlanId") == "<no such item>"  # what was deleted
    ip_before.pop("transferredFromPlanId")
    assert ip_now == ip_before


async def test_a_missing_ip_of_a_closed_stafettlogg_is_reported_since_it_cannot_transfer_again(
    world: World,
) -> None:
    """Only the IP is gone and the stafettlogg says it was transferred: a transfer would be
    refused, so the IP is reported and nothing is sent."""
    ip = await world.plan("individuell-plan")
    (await world.admin.delete(f"/_mock/samspill/plans/{ip['planId']}")).raise_for_status()
    gone = (
        "plan:ip",
        "missing remotely (its stafettlogg is closed: it cannot be transferred again)",
    )
    assert await _drift(world) == {gone}

    sent = await world.writes()
    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert await world.writes() == sent
    assert [(r["item"], r["problem"]) for r in report.reported] == [gone]
    assert [p["externalReference"] for p in (await world.state())["samspill"]["plans"]] == [LOG_REF]


async def test_a_missing_ip_of_a_stafettlogg_open_remotely_is_transferred_again_exactly(
    world: World,
) -> None:
    """The IP is gone and the stafettlogg is open again remotely (the transfer undone): the
    transfer and the IP's own history run again; the state returns as it was."""
    before = await world.state()
    ip = await world.plan("individuell-plan")
    stafettlogg = await world.plan("stafettlogg")
    (await world.admin.delete(f"/_mock/samspill/plans/{ip['planId']}")).raise_for_status()
    reopened = {"status": "active", "closedReason": None, "transferredToPlanId": None}
    patched = await world.admin.patch(
        f"/_mock/samspill/plans/{stafettlogg['planId']}", json=reopened
    )
    patched.raise_for_status()

    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert report.reported == [] and report.created > 0
    after = await world.state()
    assert duplicates(after) == []
    assert normalize(after) == normalize(before)


async def test_a_wiped_archive_is_rebuilt_and_samspill_gets_no_write(world: World) -> None:
    """Only the archive is gone: its case, documents and person return as they were; not
    one Samspill write is sent; a second resync sends nothing."""
    before = await world.state()
    world.wipe_archive()
    assert (await world.state())["p360"]["cases"] == []

    samspill_writes = _samspill_writes(await world.state())
    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert report.reported == [] and report.created > 0
    after = await world.state()
    assert _samspill_writes(after) == samspill_writes
    assert duplicates(after) == []
    assert normalize(after) == normalize(before)
    sent = await world.writes()
    again = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert (again.created, again.updated, again.adopted) == (0, 0, 0)
    assert await world.writes() == sent


def _samspill_writes(state: dict[str, object]) -> int:
    requests = state["requests"]
    assert isinstance(requests, list)
    return sum(
        1
        for r in requests
        if r["path"].startswith("/samspill/") and r["method"] in {"POST", "PUT", "PATCH", "DELETE"}
    )


async def test_an_ip_adopted_from_elsewhere_is_ours_and_its_content_is_repaired(
    world: World,
) -> None:
    """A transfer that met 409 `already-transferred` adopts an IP made elsewhere, with
    another reference: it is no drift, and a goal deleted from it is made again there."""
    ip = await world.plan("individuell-plan")
    elsewhere = {"externalReference": "elsewhere:ip-1"}
    (
        await world.admin.patch(f"/_mock/samspill/plans/{ip['planId']}", json=elsewhere)
    ).raise_for_status()
    assert await _drift(world) == set()

    goal = next(g for g in ip["goals"] if g["externalReference"].endswith(":goal:G2"))
    deleted = await world.admin.delete(f"/_mock/samspill/plans/{ip['planId']}/goals/{goal['id']}")
    deleted.raise_for_status()
    assert await _drift(world) == {("ip/goal:G2", "missing remotely")}
    report = await resync(world.rt, await case_keys(world.rt.store), actor=ACTOR, max_wait_s=0)
    assert report.created == 1 and report.reported == []
    after = await world.plan("individuell-plan")
    assert after["planId"] == ip["planId"]
    assert [
        g["title"] for g in after["goals"] if g["externalReference"] == goal["externalReference"]
    ] == [goal["title"]]
    assert await _drift(world) == set()
