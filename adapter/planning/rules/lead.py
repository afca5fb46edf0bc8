"""One baton: the stafettholder changes only when the new holder has accepted."""

from __future__ import annotations

from adapter.events import StafettholderChangedData
from adapter.planning.operations import OpKind
from adapter.planning.payloads import ChangeLead, PersonRef
from adapter.planning.rules.context import Ctx
from adapter.planning.state import PlanStage, ServicePersonState

__all__ = ["change_stafettholder"]


def change_stafettholder(ctx: Ctx, data: StafettholderChangedData) -> None:
    """Without `accepted_at` only recorded; with it CHANGE_LEAD on the stafettlogg.

    The change waits for a consent covering the new holder's service. In an IP the lead
    is the coordinator, so a change there only updates the state.
    """
    holder = ServicePersonState(name=data.name, nin=data.nin, service=data.service.value)
    if data.accepted_at is None:
        ctx.update(proposed_stafettholder=holder)
        return
    on_stafettlogg = ctx.state.plan is PlanStage.STAFETTLOGG
    if on_stafettlogg:
        ctx.require_covered(holder.service)
    ctx.update(stafettholder=holder, proposed_stafettholder=None)
    if on_stafettlogg and ctx.can_share:
        ctx.emit(
            OpKind.CHANGE_LEAD,
            ("plan", "stafettlogg"),
            ChangeLead(plan_link=ctx.plan_link, lead=PersonRef(name=holder.name, nin=holder.nin)),
            suffix=f"{ctx.seq}-lead",
        )
