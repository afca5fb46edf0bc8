"""The dispatcher on a real store with a scripted target: outcomes, order, time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pytest

from adapter.dispatch import links as link_cache
from adapter.dispatch.worker import Dispatcher
from adapter.errors import AmbiguousError, PermanentError, TransientError
from adapter.metrics import Metrics
from adapter.planning.operations import Operation, OpKind, Target, op_ref
from adapter.planning.payloads import Payload, UpdateGoal
from adapter.settings import DispatchSettings
from adapter.store import Store
from adapter.store.states import OperationState
from adapter.targets.result import Result
from tests.integration.conftest import FakeClock
from tests.support.outbox import goal_operation

Script = Callable[[str], Result | Exception]


@dataclass
class ScriptedTarget:
    """A target whose answer per op_ref comes from a script; it records every call."""

    script: dict[str, list[Result | Exception]] = field(default_factory=dict)
    existing: dict[str, Result] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    active: int = 0
    peak: int = 0

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.calls.append(("execute", op_ref))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(0.01)
            answers = self.script.get(op_ref) or []
            answer = answers.pop(0) if answers else Result(remote_id=f"R-{op_ref[-2:]}")
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            self.active -= 1

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        self.calls.append(("lookup", op_ref))
        return self.existing.get(op_ref)


def _update(case: str, goal: str, seq: int) -> Operation:
    payload = UpdateGoal(plan_link="plan:stafettlogg", goal_link=f"goal:{goal}", title="Ny")
    return Operation(
        op_ref=op_ref("modum", case, "goal", goal, seq),
        tenant="modum",
        case_id=case,
        target=Target.SAMSPILL,
        kind=OpKind.UPDATE_GOAL,
        payload=payload.model_dump(mode="json"),
    )


async def _setup(store: Store, *cases: str) -> None:
    for case in cases:
        await store.links.put_link("modum", case, Target.SAMSPILL, "plan:stafettlogg", f"P-{case}")


def _dispatcher(
    store: Store, target: ScriptedTarget, clock: FakeClock, concurrency: int = 4
) -> Dispatcher:
    return Dispatcher(
        store,
        lambda tenant, t: target,
        owner="test",
        settings=DispatchSettings(concurrency=concurrency),
        clock=clock,
    )


async def _state(store: Store, ref: str) -> OperationState:
    op = await store.outbox.get_operation_by_ref(ref)
    assert op is not None
    return op.state


async def test_success_links_the_remote_id_and_later_ops_use_it(
    store: Store, clock: FakeClock
) -> None:
    """A create is linked; the update that follows is sent with the linked id."""
    await _setup(store, "C1")
    await store.outbox.add_operations([goal_operation("C1", "G1"), _update("C1", "G1", 5)])
    target = ScriptedTarget(
        script={goal_operation("C1", "G1").op_ref: [Result(remote_id="goal-77")]}
    )
    report = await _dispatcher(store, target, clock).run_pass()
    assert report.done == 2
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "goal-77"
    assert [c[0] for c in target.calls] == ["execute", "execute"]


async def test_two_503s_then_success_makes_one_item(store: Store, clock: FakeClock) -> None:
    """Transient failures are retried in the call; the item is created once."""
    await _setup(store, "C1")
    op = goal_operation("C1", "G1")
    await store.outbox.add_operations([op])
    target = ScriptedTarget(
        script={op.op_ref: [TransientError("503", status=503), TransientError("503", status=503)]}
    )
    report = await _dispatcher(store, target, clock).run_pass()
    assert report.done == 1
    assert len(target.calls) == 3
    assert await _state(store, op.op_ref) is OperationState.DONE


async def test_ambiguous_failure_is_looked_up_and_adopted(store: Store, clock: FakeClock) -> None:
    """After a timeout the next attempt finds the item by op_ref and creates nothing."""
    await _setup(store, "C1")
    op = goal_operation("C1", "G1")
    await store.outbox.add_operations([op])
    target = ScriptedTarget(script={op.op_ref: [AmbiguousError("read timeout")]})
    dispatcher = _dispatcher(store, target, clock)
    first = await dispatcher.run_pass()
    assert first.unknown == 1
    assert await _state(store, op.op_ref) is OperationState.UNKNOWN
    target.existing[op.op_ref] = Result(remote_id="goal-adopted")
    clock.advance(3600)
    second = await dispatcher.run_pass()
    assert second.done == 1
    assert target.calls == [("execute", op.op_ref), ("lookup", op.op_ref)]
    assert await store.links.get_link("modum", "C1", Target.SAMSPILL, "goal:G1") == "goal-adopted"


async def test_retry_after_is_honoured_on_the_fake_clock(store: Store, clock: FakeClock) -> None:
    """A 429 with Retry-After 30 s: no request before 30 s have passed, one after."""
    await _setup(store, "C1")
    op = goal_operation("C1", "G1")
    await store.outbox.add_operations([op])
    target = ScriptedTarget(script={op.op_ref: [TransientError("429", status=429, retry_after=30)]})
    dispatcher = _dispatcher(store, target, clock)
    await dispatcher.run_pass()
    assert len(target.calls) == 1
    clock.advance(29)
    assert (await dispatcher.run_pass()).ran == 0
    assert len(target.calls) == 1
    clock.advance(2)
    assert (await dispatcher.run_pass()).done == 1
    assert len(target.calls) == 2


async def test_permanent_failure_parks_the_case_and_others_finish(
    store: Store, clock: FakeClock
) -> None:
    """A 422 parks that case's operation and holds its later ones; other cases complete."""
    await _setup(store, "C1", "C2")
    bad = goal_operation("C1", "G1")
    await store.outbox.add_operations([bad, _update("C1", "G1", 4), goal_operation("C2", "G1")])
    target = ScriptedTarget(script={bad.op_ref: [PermanentError("422 title too long")]})
    report = await _dispatcher(store, target, clock).run_pass()
    assert report.parked == 1 and report.done == 1
    assert await _state(store, bad.op_ref) is OperationState.PARKED
    assert await _state(store, _update("C1", "G1", 4).op_ref) is OperationState.PENDING
    parked = await store.outbox.list_parked()
    assert parked[0].reason is not None and "422 title too long" in parked[0].reason


async def test_missing_link_parks_with_a_clear_reason(store: Store, clock: FakeClock) -> None:
    """An operation whose plan was never created parks instead of calling the remote."""
    op = goal_operation("C9", "G1")
    await store.outbox.add_operations([op])
    target = ScriptedTarget()
    await _dispatcher(store, target, clock).run_pass()
    assert target.calls == []
    (parked,) = await store.outbox.list_parked()
    assert parked.reason is not None and "plan:stafettlogg" in parked.reason


async def test_cases_run_in_parallel_up_to_the_concurrency(store: Store, clock: FakeClock) -> None:
    """Many cases are dispatched concurrently, never more than the configured limit."""
    cases = [f"C{i:02}" for i in range(12)]
    await _setup(store, *cases)
    await store.outbox.add_operations([goal_operation(c, "G1") for c in cases])
    target = ScriptedTarget()
    report = await _dispatcher(store, target, clock, concurrency=4).run_pass()
    assert report.done == 12
    assert 1 < target.peak <= 4


async def test_a_429_pauses_every_operation_of_that_tenant_and_target(
    store: Store, clock: FakeClock
) -> None:
    """The rate limit is per client: after one 429 with Retry-After 120 s, the tenant's other
    Samspill cases wait too; another tenant flows on; after 120 s all run."""
    await _setup(store, "C1", "C2")
    await store.links.put_link("vardo", "V1", Target.SAMSPILL, "plan:stafettlogg", "P-V1")
    limited, same_tenant, other_tenant = (
        goal_operation("C1", "G1"),
        goal_operation("C2", "G1"),
        goal_operation("V1", tenant="vardo"),
    )
    await store.outbox.add_operations([limited, same_tenant, other_tenant])
    answer = TransientError("429", status=429, retry_after=120)
    target = ScriptedTarget(script={limited.op_ref: [answer]})
    dispatcher = _dispatcher(store, target, clock, concurrency=1)
    first = await dispatcher.run_pass()
    assert [ref for _, ref in target.calls] == [limited.op_ref, other_tenant.op_ref]
    assert (first.retried, first.done) == (1, 1)
    clock.advance(119)
    assert (await dispatcher.run_pass()).ran == 0
    clock.advance(1)
    assert (await dispatcher.run_pass()).done == 2


async def test_remote_calls_are_counted_by_status_and_operations_by_target(
    store: Store, clock: FakeClock
) -> None:
    """`stafett_remote_calls` carries the HTTP status (or the error class), never one label."""
    await _setup(store, "C1", "C2", "C3")
    created, refused, unclear = (
        goal_operation("C1", "G1"),
        goal_operation("C2", "G1"),
        goal_operation("C3", "G1"),
    )
    await store.outbox.add_operations([created, refused, unclear])
    target = ScriptedTarget(
        script={
            created.op_ref: [Result(remote_id="g", status=201)],
            refused.op_ref: [PermanentError("422", status=422)],
            unclear.op_ref: [AmbiguousError("read timeout")],
        }
    )
    metrics = Metrics()
    dispatcher = Dispatcher(
        store,
        lambda tenant, t: target,
        owner="test",
        settings=DispatchSettings(),
        clock=clock,
        metrics=metrics,
    )
    await dispatcher.run_pass()

    def calls(status: str) -> float | None:
        labels = {"target": "samspill", "status": status}
        return metrics.registry.get_sample_value("stafett_remote_calls_total", labels)

    assert (calls("201"), calls("422"), calls("ambiguous")) == (1.0, 1.0, 1.0)
    assert calls("attempt") is None


@dataclass
class _IdsSeen(ScriptedTarget):
    """A scripted target that also keeps the remote ids each call was sent with."""

    sent: dict[str, dict[str, str]] = field(default_factory=dict)

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.sent[op_ref] = dict(ids)
        return await super().execute(kind, payload, ids, op_ref=op_ref)


async def test_link_cache_is_bounded_and_evicted_cases_read_their_links_again(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass over many cases keeps the links of a few only; an evicted case's next
    operation reads its links from the store and is sent with the right remote ids."""
    monkeypatch.setattr(link_cache, "LINK_CACHE_CASES", 2)
    cases = [f"C{n}" for n in range(1, 7)]
    await _setup(store, *cases)
    ops = [op for case in cases for op in (goal_operation(case, "G1"), _update(case, "G1", 5))]
    await store.outbox.add_operations(ops)
    target = _IdsSeen(
        script={goal_operation(c, "G1").op_ref: [Result(remote_id=f"goal-{c}")] for c in cases}
    )
    dispatcher = _dispatcher(store, target, clock, concurrency=4)
    report = await dispatcher.run_pass()
    assert report.done == 12
    for case in cases:
        sent = target.sent[_update(case, "G1", 5).op_ref]
        assert sent == {"plan:stafettlogg": f"P-{case}", "goal:G1": f"goal-{case}"}
    assert len(dispatcher._links) <= 2
