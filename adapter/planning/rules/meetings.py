"""Meetings: calendar entries (scheduled, rescheduled, cancelled, held) and their minutes."""

from __future__ import annotations

from adapter.events import (
    MeetingCancelledData,
    MeetingHeldData,
    MeetingKind,
    MeetingRescheduledData,
    MeetingScheduledData,
)
from adapter.planning.operations import OpKind
from adapter.planning.payloads import CreateCalendar, UpdateCalendar
from adapter.planning.rules.archive import archive_minutes
from adapter.planning.rules.context import Ctx, Reject
from adapter.planning.state import MeetingState, MeetingStatus

__all__ = [
    "MEETING_TITLES",
    "cancel_meeting",
    "hold_meeting",
    "reschedule_meeting",
    "schedule_meeting",
    "share_meeting",
]

MEETING_TITLES: dict[str, str] = {
    MeetingKind.UNDRINGSSAMTALE: "Undringssamtale",
    MeetingKind.OPPFOLGINGSSAMTALE: "Oppfølgingssamtale",
    MeetingKind.RESSURSTEAM: "Ressursteam",
    MeetingKind.SAMARBEIDSMOTE: "Samarbeidsmøte",
    MeetingKind.NETTVERKSMOTE: "Nettverksmøte",
    MeetingKind.UTVIDET_NETTVERKSMOTE: "Utvidet nettverksmøte",
    MeetingKind.EVALUERINGSMOTE: "Evalueringsmøte",
}
"""The Norwegian calendar title of each meeting kind."""


def schedule_meeting(ctx: Ctx, data: MeetingScheduledData) -> None:
    """Record a meeting; CREATE_CALENDAR when a plan exists."""
    key = f"meeting:{data.meeting_id}"
    for participant_id in data.participant_ids:
        ctx.require_not_held("participant", participant_id, item=key)
    meeting = MeetingState(
        meeting_id=data.meeting_id,
        kind=data.kind.value,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        location=data.location,
        participant_ids=tuple(data.participant_ids),
        level0=ctx.state.level == 0,
    )
    ctx.put("meetings", meeting.meeting_id, meeting)
    if ctx.can_share:
        share_meeting(ctx, meeting)


def share_meeting(ctx: Ctx, meeting: MeetingState) -> None:
    """CREATE_CALENDAR on the current plan; participants not on the plan are left out."""
    link = ctx.item_link("meeting", meeting.meeting_id)
    links = (ctx.participant_link(p) for p in meeting.participant_ids)
    ctx.emit(
        OpKind.CREATE_CALENDAR,
        ("meeting", meeting.meeting_id),
        CreateCalendar(
            plan_link=ctx.plan_link,
            title=MEETING_TITLES[meeting.kind],
            kind=meeting.kind,
            start=meeting.starts_at,
            end=meeting.ends_at,
            location=meeting.location,
            participant_links=tuple(link for link in links if link is not None),
            status=meeting.status.value,
            external_reference=ctx.item_ref("meeting", meeting.meeting_id),
        ),
        link=link,
    )
    ctx.put("meetings", meeting.meeting_id, meeting.model_copy(update={"link": link}))


def _meeting(ctx: Ctx, meeting_id: str) -> MeetingState:
    ctx.require_not_held("meeting", meeting_id)
    meeting = ctx.state.meetings.get(meeting_id)
    if meeting is None:
        raise Reject(f"unknown meeting '{meeting_id}'")
    return meeting


def _update_entry(ctx: Ctx, meeting: MeetingState, **fields: object) -> None:
    if ctx.can_share and ctx.state.on_current_plan(meeting.link):
        assert meeting.link is not None
        ctx.emit(
            OpKind.UPDATE_CALENDAR,
            ("meeting", meeting.meeting_id),
            UpdateCalendar.model_validate(
                {"plan_link": ctx.plan_link, "entry_link": meeting.link, **fields}
            ),
            suffix=ctx.seq,
        )


def reschedule_meeting(ctx: Ctx, data: MeetingRescheduledData) -> None:
    """New start, end and location; UPDATE_CALENDAR."""
    meeting = _meeting(ctx, data.meeting_id)
    location = data.location if data.location is not None else meeting.location
    meeting = meeting.model_copy(
        update={"starts_at": data.starts_at, "ends_at": data.ends_at, "location": location}
    )
    ctx.put("meetings", meeting.meeting_id, meeting)
    _update_entry(ctx, meeting, start=data.starts_at, end=data.ends_at, location=data.location)


def cancel_meeting(ctx: Ctx, data: MeetingCancelledData) -> None:
    """UPDATE_CALENDAR status cancelled."""
    meeting = _meeting(ctx, data.meeting_id)
    meeting = meeting.model_copy(update={"status": MeetingStatus.CANCELLED})
    ctx.put("meetings", meeting.meeting_id, meeting)
    _update_entry(ctx, meeting, status=MeetingStatus.CANCELLED.value)


def hold_meeting(ctx: Ctx, data: MeetingHeldData) -> None:
    """UPDATE_CALENDAR status held; the minutes go to the archive (from every level)."""
    ctx.require_not_held("meeting", data.meeting_id)
    meeting = ctx.state.meetings.get(data.meeting_id)
    times = 1
    label = "Møte"
    if meeting is not None:
        times = meeting.times_held + 1
        label = MEETING_TITLES[meeting.kind]
        meeting = meeting.model_copy(update={"status": MeetingStatus.HELD, "times_held": times})
        ctx.put("meetings", meeting.meeting_id, meeting)
        if times == 1:
            _update_entry(ctx, meeting, status=MeetingStatus.HELD.value)
    archive_minutes(ctx, data, label, times)
