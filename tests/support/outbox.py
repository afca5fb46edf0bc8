"""Outbox rows for dispatcher and store tests: a goal create of one case, or operation
number `n` of a case and target."""

from __future__ import annotations

from adapter.planning.operations import Operation, OpKind, Target, op_ref
from adapter.planning.payloads import CloseArchiveCase, ClosePlan, CreateGoal, Payload

__all__ = ["goal_operation", "queued"]


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


def queued(
    n: int,
    *,
    case: str = "C1",
    target: Target = Target.SAMSPILL,
    tenant: str = "modum",
    waits_for: str | None = None,
    link: str | None = None,
    closes_plan: bool = False,
) -> Operation:
    """Operation number `n` of a case towards `target`: a goal create (Samspill), an archive
    case close (360), or with `closes_plan` a Samspill plan close."""
    payload: Payload
    if closes_plan:
        kind, payload = OpKind.CLOSE_PLAN, ClosePlan(plan_link="plan:stafettlogg", reason="other")
    elif target is Target.SAMSPILL:
        kind = OpKind.CREATE_GOAL
        payload = CreateGoal(plan_link="plan:stafettlogg", title=f"Mål {n}", external_reference="x")
    else:
        kind, payload = OpKind.CLOSE_CASE, CloseArchiveCase(case_link="archive-case")
    return Operation(
        op_ref=op_ref(tenant, case, kind.value, f"item{n}"),
        tenant=tenant,
        case_id=case,
        target=target,
        kind=kind,
        link=link,
        payload=payload.model_dump(mode="json"),
        waits_for=waits_for,
    )
