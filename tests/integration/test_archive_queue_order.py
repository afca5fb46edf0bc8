"""The outbox's claim order where the two queues of a case meet (`waits_for`): the Samspill
queue never waits on the archive, while the archive queue keeps its order."""

from __future__ import annotations

from adapter.planning.operations import Operation, OpKind, Target, op_ref
from adapter.store import Store
from tests.integration.conftest import FakeClock

CASE = "C1"


def _op(kind: OpKind, target: Target, name: str, waits_for: str | None = None) -> Operation:
    return Operation(
        op_ref=op_ref("modum", CASE, kind.value, name),
        tenant="modum",
        case_id=CASE,
        target=target,
        kind=kind,
        payload={},
        waits_for=waits_for,
    )


async def _claim_all(store: Store, clock: FakeClock) -> list[str]:
    """op_refs claimable now, one claim after another (each claimed one is then completed)."""
    claimed: list[str] = []
    while True:
        got = await store.outbox.claim_operations("w", clock.now, limit=10)
        if not got:
            return claimed
        for op in got:
            claimed.append(op.op_ref)
            assert await store.outbox.complete_operation(op.id, "w", clock.now)


async def test_a_waiting_log_line_holds_no_later_samspill_work(
    store: Store, clock: FakeClock
) -> None:
    """A Samspill log line waiting for a document that is not archived yet lets the later
    Samspill operations of its case go; it goes itself once the document is done."""
    document = _op(OpKind.CREATE_DOCUMENT, Target.P360, "M1")
    log_line = _op(OpKind.APPEND_LOG, Target.SAMSPILL, "minutes-M1", waits_for=document.op_ref)
    goal = _op(OpKind.CREATE_GOAL, Target.SAMSPILL, "G1")
    await store.outbox.add_operations([log_line, goal, document])
    [first, second] = await store.outbox.claim_operations("w", clock.now, limit=10)
    assert {first.op_ref, second.op_ref} == {goal.op_ref, document.op_ref}
    assert await store.outbox.complete_operation(first.id, "w", clock.now)
    [held] = [op for op in (first, second) if op.op_ref == document.op_ref]
    assert await store.outbox.claim_operations("w", clock.now) == []  # the log line still waits
    assert await store.outbox.complete_operation(held.id, "w", clock.now)
    assert await _claim_all(store, clock) == [log_line.op_ref]


async def test_a_waiting_archive_operation_keeps_the_archive_order(
    store: Store, clock: FakeClock
) -> None:
    """An archive operation waiting for a Samspill one (the closing summary after the
    transfer) holds the later archive operations of its case (close-case after it)."""
    transfer = _op(OpKind.TRANSFER_PLAN, Target.SAMSPILL, "stafettlogg")
    summary = _op(OpKind.CREATE_DOCUMENT, Target.P360, "summary", waits_for=transfer.op_ref)
    close = _op(OpKind.CLOSE_CASE, Target.P360, "main")
    await store.outbox.add_operations([summary, close, transfer])
    [only] = await store.outbox.claim_operations("w", clock.now, limit=10)
    assert only.op_ref == transfer.op_ref
    assert await store.outbox.claim_operations("w", clock.now) == []  # in flight: nothing else
    assert await store.outbox.complete_operation(only.id, "w", clock.now)
    assert await _claim_all(store, clock) == [summary.op_ref, close.op_ref]
