"""Outbox rows for dispatcher and store tests: a goal create of one case."""

from __future__ import annotations

from adapter.planning.operations import Operation, OpKind, Target, op_ref
from adapter.planning.payloads import CreateGoal

__all__ = ["goal_operation"]


def goal_operation(case: str, goal: str = "G1", *, tenant: str = "modum") -> Operation:
    """CREATE_GOAL `goal` on the case's stafettlogg."""
    payload = CreateGoal(plan_link="plan:stafettlogg", title="Mål", external_reference="x")
    return Operation(
        op_ref=op_ref(tenant, case, "goal", goal),
        tenant=tenant,
        case_id=case,
        target=Target.SAMSPILL,
        kind=OpKind.CREATE_GOAL,
        link=f"goal:{goal}",
        payload=payload.model_dump(mode="json"),
    )
