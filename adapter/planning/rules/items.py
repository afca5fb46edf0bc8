"""Plan content: goals ("mål"), measures ("tiltak") and responsibilities ("ansvar")."""

from __future__ import annotations

from adapter.events import (
    GoalClosedData,
    GoalSetData,
    GoalUpdatedData,
    MeasureAgreedData,
    MeasureEndedData,
    MeasureUpdatedData,
    ResponsibilityAssignedData,
    ResponsibilityCompletedData,
)
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    CreateGoal,
    CreateMeasure,
    CreateResponsibility,
    UpdateGoal,
    UpdateMeasure,
    UpdateResponsibility,
)
from adapter.planning.rules.context import Ctx, Reject, refuse_existing
from adapter.planning.state import GoalState, GoalStatus, MeasureState, ResponsibilityState

__all__ = [
    "agree_measure",
    "assign_responsibility",
    "close_goal",
    "complete_responsibility",
    "end_measure",
    "measure_ready",
    "set_goal",
    "share_goal",
    "share_measure",
    "share_responsibility",
    "update_goal",
    "update_measure",
]


# --- goals ---------------------------------------------------------------------------


def set_goal(ctx: Ctx, data: GoalSetData) -> None:
    """Record a goal; CREATE_GOAL when a plan exists."""
    refuse_existing(ctx.state.goals, "goal", data.goal_id, "goal.updated")
    goal = GoalState(
        goal_id=data.goal_id,
        title=data.title,
        description=data.description,
        target_date=data.target_date,
        level0=ctx.state.level == 0,
    )
    ctx.put("goals", goal.goal_id, goal)
    if ctx.can_share:
        share_goal(ctx, goal)


def share_goal(ctx: Ctx, goal: GoalState) -> None:
    """CREATE_GOAL on the current plan with the goal's state now."""
    link = ctx.item_link("goal", goal.goal_id)
    ctx.emit(
        OpKind.CREATE_GOAL,
        ("goal", goal.goal_id),
        CreateGoal(
            plan_link=ctx.plan_link,
            title=goal.title,
            description=goal.description,
            target_date=goal.target_date,
            status=goal.status.value,
            evaluation=goal.evaluation,
            external_reference=ctx.item_ref("goal", goal.goal_id),
        ),
        link=link,
    )
    ctx.put("goals", goal.goal_id, goal.model_copy(update={"link": link}))


def _goal(ctx: Ctx, goal_id: str) -> GoalState:
    ctx.require_not_held("goal", goal_id)
    goal = ctx.state.goals.get(goal_id)
    if goal is None:
        raise Reject(f"unknown goal '{goal_id}'")
    return goal


def update_goal(ctx: Ctx, data: GoalUpdatedData) -> None:
    """Change a goal's fields; UPDATE_GOAL when it is on the current plan."""
    goal = _goal(ctx, data.goal_id)
    changes = data.model_dump(exclude_none=True, exclude={"goal_id"})
    goal = goal.model_copy(update=changes)
    ctx.put("goals", goal.goal_id, goal)
    if ctx.can_share and ctx.state.on_current_plan(goal.link):
        assert goal.link is not None
        ctx.emit(
            OpKind.UPDATE_GOAL,
            ("goal", goal.goal_id),
            UpdateGoal(plan_link=ctx.plan_link, goal_link=goal.link, **changes),
            suffix=ctx.seq,
        )


def close_goal(ctx: Ctx, data: GoalClosedData) -> None:
    """A goal achieved or discontinued; UPDATE_GOAL with status and evaluation."""
    goal = _goal(ctx, data.goal_id)
    status = GoalStatus(data.outcome.value)
    goal = goal.model_copy(update={"status": status, "evaluation": data.evaluation})
    ctx.put("goals", goal.goal_id, goal)
    if ctx.can_share and ctx.state.on_current_plan(goal.link):
        assert goal.link is not None
        ctx.emit(
            OpKind.UPDATE_GOAL,
            ("goal", goal.goal_id),
            UpdateGoal(
                plan_link=ctx.plan_link,
                goal_link=goal.link,
                status=status.value,
                evaluation=data.evaluation,
            ),
            suffix=ctx.seq,
        )


# --- measures ------------------------------------------------------------------------


def _check_responsible(
    ctx: Ctx, participant_id: str | None, service: str | None, item: str | None
) -> None:
    if participant_id is not None:
        ctx.require_not_held("participant", participant_id, item=item)
    if service is not None:
        ctx.require_covered(service, item=item)


def measure_ready(ctx: Ctx, measure: MeasureState) -> bool:
    """True when the measure's responsible side may see it on the plan now."""
    if measure.responsible_service is not None:
        return ctx.covered(measure.responsible_service)
    if measure.responsible_participant_id is not None:
        return ctx.participant_link(measure.responsible_participant_id) is not None
    return True


def _goal_link(ctx: Ctx, goal_id: str | None) -> str | None:
    goal = None if goal_id is None else ctx.state.goals.get(goal_id)
    if goal is not None and ctx.state.on_current_plan(goal.link):
        return goal.link
    return None


def agree_measure(ctx: Ctx, data: MeasureAgreedData) -> None:
    """Record a measure; CREATE_MEASURE when a plan exists (consent-gated)."""
    refuse_existing(ctx.state.measures, "measure", data.measure_id, "measure.updated")
    key = f"measure:{data.measure_id}"
    service = None if data.responsible_service is None else data.responsible_service.value
    _check_responsible(ctx, data.responsible_participant_id, service, key)
    measure = MeasureState(
        measure_id=data.measure_id,
        goal_id=data.goal_id,
        title=data.title,
        arena=data.arena.value,
        responsible_participant_id=data.responsible_participant_id,
        responsible_service=service,
        start_date=data.start_date,
        end_date=data.end_date,
        level0=ctx.state.level == 0,
    )
    ctx.put("measures", measure.measure_id, measure)
    if ctx.can_share and measure_ready(ctx, measure):
        share_measure(ctx, measure)


def share_measure(ctx: Ctx, measure: MeasureState) -> None:
    """CREATE_MEASURE on the current plan, status from its dates at the judging date."""
    link = ctx.item_link("measure", measure.measure_id)
    participant = measure.responsible_participant_id
    ctx.emit(
        OpKind.CREATE_MEASURE,
        ("measure", measure.measure_id),
        CreateMeasure(
            plan_link=ctx.plan_link,
            goal_link=_goal_link(ctx, measure.goal_id),
            title=measure.title,
            arena=measure.arena,
            responsible_participant_link=None
            if participant is None
            else ctx.participant_link(participant),
            responsible_service=measure.responsible_service,
            start_date=measure.start_date,
            end_date=measure.end_date,
            status=measure.status_on(ctx.at),
            evaluation=measure.evaluation,
            external_reference=ctx.item_ref("measure", measure.measure_id),
        ),
        link=link,
    )
    ctx.put("measures", measure.measure_id, measure.model_copy(update={"link": link}))


def _measure(ctx: Ctx, measure_id: str) -> MeasureState:
    ctx.require_not_held("measure", measure_id)
    measure = ctx.state.measures.get(measure_id)
    if measure is None:
        raise Reject(f"unknown measure '{measure_id}'")
    return measure


def update_measure(ctx: Ctx, data: MeasureUpdatedData) -> None:
    """Change a measure; UPDATE_MEASURE (with its status now) when on the current plan."""
    measure = _measure(ctx, data.measure_id)
    service = None if data.responsible_service is None else data.responsible_service.value
    _check_responsible(ctx, data.responsible_participant_id, service, None)
    updates: dict[str, object] = {
        name: getattr(data, name)
        for name in ("goal_id", "title", "start_date", "end_date")
        if getattr(data, name) is not None
    }
    if data.arena is not None:
        updates["arena"] = data.arena.value
    if data.responsible_participant_id is not None:
        updates |= {"responsible_participant_id": data.responsible_participant_id}
        updates |= {"responsible_service": None}
    if service is not None:
        updates |= {"responsible_service": service, "responsible_participant_id": None}
    measure = measure.model_copy(update=updates)
    ctx.put("measures", measure.measure_id, measure)
    if not (ctx.can_share and ctx.state.on_current_plan(measure.link)):
        return
    assert measure.link is not None
    participant = data.responsible_participant_id
    ctx.emit(
        OpKind.UPDATE_MEASURE,
        ("measure", measure.measure_id),
        UpdateMeasure(
            plan_link=ctx.plan_link,
            measure_link=measure.link,
            goal_link=_goal_link(ctx, data.goal_id),
            title=data.title,
            arena=None if data.arena is None else data.arena.value,
            responsible_participant_link=None
            if participant is None
            else ctx.participant_link(participant),
            responsible_service=service,
            start_date=data.start_date,
            end_date=data.end_date,
            status=measure.status_on(ctx.at),
        ),
        suffix=ctx.seq,
    )


def end_measure(ctx: Ctx, data: MeasureEndedData) -> None:
    """A measure ended: UPDATE_MEASURE status ended with the evaluation."""
    measure = _measure(ctx, data.measure_id)
    measure = measure.model_copy(update={"ended": True, "evaluation": data.evaluation})
    ctx.put("measures", measure.measure_id, measure)
    if ctx.can_share and ctx.state.on_current_plan(measure.link):
        assert measure.link is not None
        ctx.emit(
            OpKind.UPDATE_MEASURE,
            ("measure", measure.measure_id),
            UpdateMeasure(
                plan_link=ctx.plan_link,
                measure_link=measure.link,
                status="ended",
                evaluation=data.evaluation,
            ),
            suffix=ctx.seq,
        )


# --- responsibilities ----------------------------------------------------------------


def assign_responsibility(ctx: Ctx, data: ResponsibilityAssignedData) -> None:
    """Record a responsibility; CREATE_RESPONSIBILITY when its person is on the plan."""
    refuse_existing(ctx.state.responsibilities, "responsibility", data.responsibility_id, None)
    key = f"responsibility:{data.responsibility_id}"
    ctx.require_not_held("participant", data.participant_id, item=key)
    item = ResponsibilityState(
        responsibility_id=data.responsibility_id,
        participant_id=data.participant_id,
        task=data.task,
        due_date=data.due_date,
        level0=ctx.state.level == 0,
    )
    ctx.put("responsibilities", item.responsibility_id, item)
    if ctx.can_share and ctx.participant_link(item.participant_id) is not None:
        share_responsibility(ctx, item)


def share_responsibility(ctx: Ctx, item: ResponsibilityState, *, suffix: str | None = None) -> None:
    """CREATE_RESPONSIBILITY on the current plan (`suffix`: a second create, on the IP)."""
    participant_link = ctx.participant_link(item.participant_id)
    assert participant_link is not None
    link = ctx.item_link("responsibility", item.responsibility_id)
    ctx.emit(
        OpKind.CREATE_RESPONSIBILITY,
        ("responsibility", item.responsibility_id),
        CreateResponsibility(
            plan_link=ctx.plan_link,
            participant_link=participant_link,
            task=item.task,
            due_date=item.due_date,
            status="done" if item.done else "open",
            external_reference=ctx.item_ref("responsibility", item.responsibility_id),
        ),
        suffix=suffix,
        link=link,
    )
    ctx.put("responsibilities", item.responsibility_id, item.model_copy(update={"link": link}))


def complete_responsibility(ctx: Ctx, data: ResponsibilityCompletedData) -> None:
    """A responsibility done: UPDATE_RESPONSIBILITY status done."""
    ctx.require_not_held("responsibility", data.responsibility_id)
    item = ctx.state.responsibilities.get(data.responsibility_id)
    if item is None:
        raise Reject(f"unknown responsibility '{data.responsibility_id}'")
    item = item.model_copy(update={"done": True})
    ctx.put("responsibilities", item.responsibility_id, item)
    if ctx.can_share and ctx.state.on_current_plan(item.link):
        assert item.link is not None
        ctx.emit(
            OpKind.UPDATE_RESPONSIBILITY,
            ("responsibility", item.responsibility_id),
            UpdateResponsibility(
                plan_link=ctx.plan_link, responsibility_link=item.link, status="done"
            ),
            suffix=ctx.seq,
        )
