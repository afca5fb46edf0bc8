"""Plan creation and carry-in: the stafettlogg appears at the plan step, with a consent.

Whichever comes last of "the profile's plan step entered" and "an active consent covers
the stafettholder's service" creates the plan, then carries in, in this order: active
consents, covered participants, active goals, active measures, open responsibilities,
the current follow-up deadline and future meetings. Level-0 items and log notes are never
carried in. The same sweep later shares items that were waiting only for their consent or
person.
"""

from __future__ import annotations

from adapter.planning.operations import OpKind
from adapter.planning.payloads import CreatePlan, FamilyMember, PersonRef
from adapter.planning.rules.consent import share_consent
from adapter.planning.rules.context import Ctx
from adapter.planning.rules.deadlines import share_deadline
from adapter.planning.rules.items import (
    measure_ready,
    share_goal,
    share_measure,
    share_responsibility,
)
from adapter.planning.rules.meetings import share_meeting
from adapter.planning.rules.participants import share_participant
from adapter.planning.state import GoalStatus, MeetingStatus, ParticipantStatus, PlanStage

__all__ = ["maybe_create_plan", "share_pending"]


def maybe_create_plan(ctx: Ctx) -> bool:
    """CREATE_PLAN and the carry-in when both conditions now hold; True when it did."""
    state = ctx.state
    holder = state.stafettholder
    if (
        state.plan is not PlanStage.NONE
        or state.closed
        or not state.plan_step_reached
        or state.level == 0
        or holder is None
        or state.child is None
        or not ctx.covered(holder.service)
    ):
        return False
    ctx.emit(
        OpKind.CREATE_PLAN,
        ("plan", "stafettlogg"),
        CreatePlan(
            organization_number=ctx.rules.organization_number,
            main_person=PersonRef(name=state.child.name, nin=state.child.nin),
            lead=PersonRef(name=holder.name, nin=holder.nin),
            family=tuple(
                FamilyMember(name=g.name, nin=g.nin, role="foresatt", link=g.link)
                for g in state.guardians
            ),
            affiliation=holder.service,
            external_reference=ctx.item_ref("plan", "stafettlogg"),
        ),
        link="plan:stafettlogg",
    )
    ctx.update(plan=PlanStage.STAFETTLOGG)
    share_pending(ctx, carry_in=True)
    return True


def share_pending(ctx: Ctx, *, carry_in: bool = False) -> None:
    """Share every item that may now reach the plan and is not on it yet.

    With `carry_in`, future meetings (after the triggering event) come along too.
    """
    if not ctx.can_share:
        return
    for consent in list(ctx.state.consents.values()):
        if consent.link is None and consent.active_on(ctx.at):
            share_consent(ctx, consent)
    for participant in list(ctx.state.participants.values()):
        if (
            participant.link is None
            and participant.status is ParticipantStatus.ACTIVE
            and not participant.level0
            and ctx.covered(participant.service)
        ):
            share_participant(ctx, participant)
    for goal in list(ctx.state.goals.values()):
        if goal.link is None and goal.status is GoalStatus.ACTIVE and not goal.level0:
            share_goal(ctx, goal)
    for measure in list(ctx.state.measures.values()):
        if (
            measure.link is None
            and not measure.level0
            and measure.status_on(ctx.at) != "ended"
            and measure_ready(ctx, measure)
        ):
            share_measure(ctx, measure)
    for item in list(ctx.state.responsibilities.values()):
        if (
            item.link is None
            and not item.done
            and not item.level0
            and ctx.participant_link(item.participant_id) is not None
        ):
            share_responsibility(ctx, item)
    if not carry_in:
        return
    deadline = ctx.state.deadline
    if (
        deadline is not None
        and deadline.link is None
        and not deadline.level0
        and deadline.deadline >= ctx.at
    ):
        share_deadline(ctx, deadline)
    for meeting in list(ctx.state.meetings.values()):
        if (
            meeting.link is None
            and not meeting.level0
            and meeting.status is MeetingStatus.PLANNED
            and meeting.starts_at > ctx.event.occurred_at
        ):
            share_meeting(ctx, meeting)
