"""Meetings: calendar entries (scheduled, rescheduled, cancelled, held) and their minutes."""

from __future__ import annotations

from adapter.events import (
    MeetingCancelledData,
    MeetingHeldData,
    MeetingRescheduledData,
    MeetingScheduledData,
)
from adapter.planning.operations import OpKind
from adapter.planning.payloads import CreateCalendar, UpdateCalendar
from adapter.planning.rules.archive import (
    MEETING_TITLES,
    minutes_document,
    minutes_label,
    minutes_log_line,
)
from adapter.planning.rules.context import Ctx, Reject, refuse_existing
from adapter.planning.state import MeetingState, MeetingStatus

__all__ = [
    "cancel_meeting",
    "hold_meeting",
    "reschedule_meeting",
    "schedule_meeting",
    "share_meeting",
]


def schedule_meeting(ctx: Ctx, data: MeetingScheduledData) -> None:
    """Record a meeting; CREATE_CALENDAR when a plan exists.

    Never held for a participant: the entry lists those on the plan, and one who joins
    later is added to it then (see `participants.share_participant`).
    """
    refuse_existing(ctx.state.meetings, "meeting", data.meeting_id, "meeting.rescheduled")
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


def share_meeting(ctx: Ctx, meeting: MeetingState, *, suffix: str | None = None) -> None:
    """CREATE_CALENDAR on the current plan; participants not on the plan are left out.

    `suffix` tells a second create of the same meeting (on the IP, after a transfer) apart.
    """
    link = ctx.item_link("meeting", meeting.meeting_id)
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
            participant_links=ctx.participant_links(meeting.participant_ids),
            status=meeting.status.value,
            external_reference=ctx.item_ref("meeting", meeting.meeting_id),
        ),
        suffix=suffix,
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
    """UPDATE_CALENDAR status held; the minutes go to the archive (from every level).

    Minutes archived already while this event waited (`archive_waiting_minutes`) are not
    archived again; the log line then waits for that document.
    """
    ctx.require_not_held("meeting", data.meeting_id)
    label, times = minutes_label(ctx.state, data.meeting_id)
    meeting = ctx.state.meetings.get(data.meeting_id)
    if meeting is not None:
        meeting = meeting.model_copy(update={"status": MeetingStatus.HELD, "times_held": times})
        ctx.put("meetings", meeting.meeting_id, meeting)
        if times == 1:
            _update_entry(ctx, meeting, status=MeetingStatus.HELD.value)
    event_id = str(ctx.event.event_id)
    document = ctx.state.minutes_archived.get(event_id)
    if document is not None:
        ctx.update(
            minutes_archived={k: v for k, v in ctx.state.minutes_archived.items() if k != event_id}
        )
    else:
        document = minutes_document(ctx, data, label, times)
    if document is not None:
        minutes_log_line(ctx, data.meeting_id, times, document)
