"""Opening a case and moving through the profile's levels and steps."""

from __future__ import annotations

from adapter.events import CaseOpenedData, StepEnteredData
from adapter.planning.rules.context import Ctx
from adapter.planning.state import GuardianState, PersonState, ServicePersonState

__all__ = ["enter_step", "open_case"]


def open_case(ctx: Ctx, data: CaseOpenedData) -> None:
    """Record the child, guardians, service, level/step and stafettholder."""
    guardians = tuple(
        GuardianState(
            name=g.name,
            nin=g.nin,
            relation=g.relation.value,
            guardian_id=g.guardian_id,
            link=f"guardian:{g.guardian_id or position}",
        )
        for position, g in enumerate(data.guardians, start=1)
    )
    holder = data.stafettholder
    ctx.update(
        opened=True,
        child=PersonState(name=data.child.name, nin=data.child.nin),
        guardians=guardians,
        service=data.service.value,
        stafettholder=ServicePersonState(
            name=holder.name, nin=holder.nin, service=holder.service.value
        ),
    )
    _at_step(ctx, data.level, data.step)


def enter_step(ctx: Ctx, data: StepEnteredData) -> None:
    """Move to a step; reaching the profile's plan step is remembered."""
    _at_step(ctx, data.level, data.step)


def _at_step(ctx: Ctx, level: int, step: int) -> None:
    reached = ctx.state.plan_step_reached or (level, step) >= ctx.rules.plan_step
    ctx.update(level=level, step=step, plan_step_reached=reached)
