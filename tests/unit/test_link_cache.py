"""The dispatcher's link cache: a payload's keys resolved, read once, bounded by cases."""

from __future__ import annotations

import pytest

from adapter.dispatch.links import LinkCache
from adapter.errors import PermanentError
from adapter.planning.links import LEAD_LINK
from adapter.planning.payloads import CreateResponsibility, UpdateGoal
from adapter.store.memory import MemoryLinks, MemoryOutbox
from adapter.store.records import StoredOperation
from adapter.store.states import Target
from adapter.targets.result import Result
from tests.support.clock import FakeClock
from tests.support.outbox import queued


class _Counting(MemoryLinks):
    """Links that count the reads reaching them."""

    reads = 0

    async def get_links(
        self, tenant: str, case_id: str, target: Target, internal_refs: list[str]
    ) -> dict[str, str]:
        self.reads += 1
        return await super().get_links(tenant, case_id, target, internal_refs)


async def _op(case: str) -> StoredOperation:
    outbox = MemoryOutbox(FakeClock())
    await outbox.add_operations([queued(1, case=case, link="goal:G1")])
    [stored] = await outbox.operations_for_case("modum", case)
    return stored


UPDATE = UpdateGoal(plan_link="plan:stafettlogg", goal_link="goal:G1", title="Ny")


async def test_links_are_read_once_and_those_learnt_are_kept() -> None:
    """The first resolve reads the store; a later one of the case, and a link learnt from a
    completion, come from the cache."""
    links = _Counting()
    await links.put_link("modum", "C1", Target.SAMSPILL, "plan:stafettlogg", "P-1")
    cache = LinkCache(links)
    op = await _op("C1")
    cache.remember(op, Result(remote_id="goal-1"))
    assert await cache.resolve(op, UPDATE) == {"plan:stafettlogg": "P-1", "goal:G1": "goal-1"}
    assert await cache.resolve(op, UPDATE) == {"plan:stafettlogg": "P-1", "goal:G1": "goal-1"}
    assert links.reads == 1


async def test_the_cache_keeps_the_most_recent_cases_only() -> None:
    """Beyond its bound the least recently used case goes, and is read again when needed."""
    links = _Counting()
    for case in ("C1", "C2", "C3"):
        await links.put_link("modum", case, Target.SAMSPILL, "plan:stafettlogg", f"P-{case}")
        await links.put_link("modum", case, Target.SAMSPILL, "goal:G1", f"G-{case}")
    cache = LinkCache(links, cases=2)
    ops = {case: await _op(case) for case in ("C1", "C2", "C3")}
    for case in ("C1", "C2", "C3"):
        await cache.resolve(ops[case], UPDATE)
    assert (len(cache), links.reads) == (2, 3)
    assert await cache.resolve(ops["C1"], UPDATE) == {
        "plan:stafettlogg": "P-C1",
        "goal:G1": "G-C1",
    }
    assert links.reads == 4


async def test_a_key_without_a_remote_id_is_a_permanent_error_and_the_lead_is_itself() -> None:
    """A missing link parks the operation (PermanentError naming the key); the plan lead's
    key resolves to itself, never to a stored link."""
    links = MemoryLinks()
    await links.put_link("modum", "C1", Target.SAMSPILL, "plan:stafettlogg", "P-1")
    cache = LinkCache(links)
    op = await _op("C1")
    with pytest.raises(PermanentError, match="goal:G1"):
        await cache.resolve(op, UPDATE)
    duty = CreateResponsibility(
        plan_link="plan:stafettlogg",
        participant_link=LEAD_LINK,
        task="Følge opp",
        external_reference="x",
    )
    assert await cache.resolve(op, duty) == {"plan:stafettlogg": "P-1", LEAD_LINK: LEAD_LINK}
