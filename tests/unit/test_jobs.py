"""The jobs on the in-memory outbox: the dispatch job's takeover, and one job per scheduler id."""

from __future__ import annotations

import random
from dataclasses import dataclass

from adapter.dispatch.worker import Dispatcher
from adapter.jobs.catalog import ServiceJobs
from adapter.jobs.dispatch import Dispatch
from adapter.planning.operations import Target
from adapter.scheduler import JOB_IDS
from adapter.settings import DispatchSettings
from adapter.store.memory import MemoryStore
from adapter.store.states import OperationState
from adapter.targets.result import Result
from tests.support.clock import FakeClock
from tests.support.outbox import queued
from tests.support.scripted_remote import Remote


@dataclass
class _Runtime:
    """What the dispatch job reads of a runtime: the store, the clock, a dispatcher."""

    store: MemoryStore
    clock: FakeClock
    remote: Remote

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.store,
            lambda tenant, target: self.remote,  # type: ignore[arg-type,return-value]  # a fake
            owner="me",
            settings=DispatchSettings(in_call_attempts=1),
            clock=self.clock,
            rng=random.Random(1),
        )


async def test_the_dispatch_job_takes_over_a_crashed_owners_work_and_looks_it_up_first() -> None:
    """An operation left in flight by a process that died is released when its lease has run
    out, then claimed and looked up by op_ref before anything is created."""
    clock = FakeClock()
    store = MemoryStore(clock)
    await store.links.put_link("modum", "C1", Target.SAMSPILL, "plan:stafettlogg", "P-C1")
    goal = queued(1, link="goal:G1")
    await store.outbox.add_operations([goal])
    await store.outbox.claim_operations("crashed", clock.now, lease_s=60)
    remote = Remote(existing={goal.op_ref: Result(remote_id="made-before-the-crash")})
    job = Dispatch(_Runtime(store, clock, remote))  # type: ignore[arg-type]  # a fake runtime

    assert (await job.run()).ran == 0  # the lease still runs: nothing to take over yet
    clock.advance(61)
    report = await job.run()
    assert report.done == 1
    assert remote.calls == [("lookup", goal.op_ref)]
    done = await store.outbox.get_operation_by_ref(goal.op_ref)
    assert done is not None and done.state is OperationState.DONE and done.attempts == 2
    link = await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1")
    assert link == "made-before-the-crash"


async def test_a_stopped_dispatch_job_claims_nothing() -> None:
    """After `stop` (the service is shutting down) a tick claims no operation."""
    clock = FakeClock()
    store = MemoryStore(clock)
    await store.links.put_link("modum", "C1", Target.SAMSPILL, "plan:stafettlogg", "P-C1")
    await store.outbox.add_operations([queued(1)])
    remote = Remote()
    job = Dispatch(_Runtime(store, clock, remote))  # type: ignore[arg-type]  # a fake runtime
    job.stop()
    assert (await job.run()).ran == 0
    assert remote.calls == []
    assert await store.outbox.next_due_at() == clock.now


def test_the_service_has_one_job_per_scheduler_id_and_four_singletons() -> None:
    """Every scheduler id has its job, in order; reconcile, deadlines, expiry and retention
    run on one replica at a time, the turns (poll, plan, dispatch) on each."""
    clock = FakeClock()
    rt = _Runtime(MemoryStore(clock), clock, Remote())
    jobs = ServiceJobs(rt).all  # type: ignore[arg-type]  # a fake runtime
    assert tuple(job.name for job in jobs) == JOB_IDS
    assert {job.name for job in jobs if job.singleton} == {
        "reconcile",
        "deadlines",
        "expiry",
        "retention",
    }
