"""The demo streams in examples/events replay to the key facts of their story."""

from __future__ import annotations

import json
from pathlib import Path

from adapter.events import Event, validation_context
from adapter.planning import OpKind, Outcome, PlanResult, Target, replay
from tests.unit.planning.factory import rules_for

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"


def _replay(tenant: str) -> tuple[list[Event], PlanResult]:
    context = validation_context(accept_synthetic_nin=True)
    lines = (EXAMPLES / f"{tenant}.jsonl").read_text(encoding="utf-8").splitlines()
    events = [Event.model_validate(json.loads(line), context=context) for line in lines]
    return events, replay(events, rules_for(tenant))


def _level0_sequences(events: list[Event]) -> set[int]:
    level = None
    found = set()
    for event in events:
        level = getattr(event.data, "level", level)
        if level == 0:
            found.add(event.sequence)
    return found


def test_modum_example() -> None:
    """Modum: every event applies, one plan at step 2/2, no level-0 Samspill op, all closed."""
    events, result = _replay("modum")
    assert {d.outcome for d in result.decisions} == {Outcome.APPLIED}
    (create,) = [op for op in result.operations if op.kind is OpKind.CREATE_PLAN]
    step = next(e for e in events if e.sequence == create.cause_sequence)
    assert (getattr(step.data, "level", None), getattr(step.data, "step", None)) == (2, 2)
    level0 = _level0_sequences(events)
    assert not [
        op
        for op in result.operations
        if op.target is Target.SAMSPILL and op.cause_sequence in level0
    ]
    kinds = [op.kind for op in result.operations]
    assert OpKind.CHANGE_LEAD in kinds
    assert OpKind.REMOVE_PARTICIPANT in kinds
    assert kinds[-2:] == [OpKind.CLOSE_PLAN, OpKind.CLOSE_CASE]
    assert result.state.closed


def test_vardo_example() -> None:
    """Vardø: plan at 1/1, transfer to the IP with a summary, later items on the IP."""
    events, result = _replay("vardo")
    assert {d.outcome for d in result.decisions} == {Outcome.APPLIED}
    assert len([op for op in result.operations if op.kind is OpKind.CREATE_PLAN]) == 1
    (transfer,) = [op for op in result.operations if op.kind is OpKind.TRANSFER_PLAN]
    assert "ip/participant:P-ph1" in transfer.payload["adopt"]
    after = [op for op in result.operations if (op.cause_sequence or 0) > transfer.cause_sequence]
    assert all(
        op.payload.get("plan_link") in (None, "plan:ip")
        for op in after
        if op.target is Target.SAMSPILL
    )
    close = next(op for op in result.operations if op.kind is OpKind.CLOSE_PLAN)
    assert close.payload == {"plan_link": "plan:ip", "reason": "other"}
    level0 = _level0_sequences(events)
    assert not [
        op
        for op in result.operations
        if op.target is Target.SAMSPILL and op.cause_sequence in level0
    ]
