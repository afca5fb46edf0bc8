"""Service participants: added (consent-gated), removed, and shared with the plan."""

from __future__ import annotations

from adapter.events import ParticipantAddedData, ParticipantRemovedData
from adapter.planning.operations import OpKind
from adapter.planning.payloads import AddParticipant, RemoveParticipant, UpdateCalendar
from adapter.planning.rules.context import Ctx, Reject
from adapter.planning.state import MeetingStatus, ParticipantState, ParticipantStatus

__all__ = ["add_participant", "remove_participant", "share_participant"]


def add_participant(ctx: Ctx, data: ParticipantAddedData) -> None:
    """Record a participant; ADD_PARTICIPANT when a plan exists (held without consent).

    A participant in the case already is refused (remove it first); one removed earlier,
    by an operator's event or by a consent's end, comes back with a new remote item.
    """
    existing = ctx.state.participants.get(data.participant_id)
    if existing is not None and existing.status is ParticipantStatus.ACTIVE:
        raise Reject(f"participant '{data.participant_id}' is in the case already")
    ctx.require_covered(data.service.value, item=f"participant:{data.participant_id}")
    participant = ParticipantState(
        participant_id=data.participant_id,
        name=data.name,
        nin=data.nin,
        role=data.role.value,
        service=data.service.value,
        level0=ctx.state.level == 0,
        ever_shared=existing is not None and existing.ever_shared,
    )
    ctx.put("participants", participant.participant_id, participant)
    if ctx.can_share:
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
    _name_in_meetings(ctx, participant.participant_id)


def _name_in_meetings(ctx: Ctx, participant_id: str) -> None:
    """Planned calendar entries that name the participant list them now they are on the plan."""
    for meeting in ctx.state.meetings.values():
        if (
            participant_id in meeting.participant_ids
            and meeting.status is MeetingStatus.PLANNED
            and ctx.state.on_current_plan(meeting.link)
        ):
            assert meeting.link is not None
            ctx.emit(
                OpKind.UPDATE_CALENDAR,
                ("meeting", meeting.meeting_id),
                UpdateCalendar(
                    plan_link=ctx.plan_link,
                    entry_link=meeting.link,
                    participant_links=ctx.participant_links(meeting.participant_ids),
                ),
                suffix=f"{ctx.suffix}-{participant_id}",
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
