"""Service participants: added (consent-gated), removed, and shared with the plan."""

from __future__ import annotations

from adapter.events import ParticipantAddedData, ParticipantRemovedData
from adapter.planning.operations import OpKind
from adapter.planning.payloads import AddParticipant, RemoveParticipant
from adapter.planning.rules.context import Ctx, Reject
from adapter.planning.state import ParticipantState, ParticipantStatus

__all__ = ["add_participant", "remove_participant", "share_participant"]


def add_participant(ctx: Ctx, data: ParticipantAddedData) -> None:
    """Record a participant; ADD_PARTICIPANT when a plan exists (held without consent)."""
    key = f"participant:{data.participant_id}"
    ctx.require_covered(data.service.value, item=key)
    existing = ctx.state.participants.get(data.participant_id)
    still_shared = (
        existing is not None
        and existing.status is ParticipantStatus.ACTIVE
        and ctx.state.on_current_plan(existing.link)
    )
    participant = ParticipantState(
        participant_id=data.participant_id,
        name=data.name,
        nin=data.nin,
        role=data.role.value,
        service=data.service.value,
        level0=ctx.state.level == 0,
        link=existing.link if still_shared and existing is not None else None,
        ever_shared=existing is not None and existing.ever_shared,
    )
    ctx.put("participants", participant.participant_id, participant)
    if ctx.can_share and not still_shared:
        share_participant(ctx, participant)


def share_participant(ctx: Ctx, participant: ParticipantState) -> None:
    """ADD_PARTICIPANT on the current plan (a re-add gets the event's sequence as suffix)."""
    link = ctx.item_link("participant", participant.participant_id)
    ctx.emit(
        OpKind.ADD_PARTICIPANT,
        ("participant", participant.participant_id),
        AddParticipant(
            plan_link=ctx.plan_link,
            name=participant.name,
            nin=participant.nin,
            role=participant.role,
            service=participant.service,
            access_areas=ctx.rules.access_areas,
            external_reference=ctx.item_ref("participant", participant.participant_id),
        ),
        suffix=ctx.seq if participant.ever_shared else None,
        link=link,
    )
    ctx.put(
        "participants",
        participant.participant_id,
        participant.model_copy(update={"link": link, "ever_shared": True}),
    )


def remove_participant(ctx: Ctx, data: ParticipantRemovedData) -> None:
    """REMOVE_PARTICIPANT when shared; a no-op for one removed by a consent's end."""
    ctx.require_not_held("participant", data.participant_id)
    participant = ctx.state.participants.get(data.participant_id)
    if participant is None:
        raise Reject(f"unknown participant '{data.participant_id}'")
    if (
        participant.status is ParticipantStatus.ACTIVE
        and ctx.can_share
        and ctx.state.on_current_plan(participant.link)
    ):
        assert participant.link is not None
        ctx.emit(
            OpKind.REMOVE_PARTICIPANT,
            ("participant", participant.participant_id),
            RemoveParticipant(plan_link=ctx.plan_link, participant_link=participant.link),
            suffix=ctx.seq,
        )
    ctx.put(
        "participants",
        participant.participant_id,
        participant.model_copy(update={"status": ParticipantStatus.REMOVED, "link": None}),
    )
