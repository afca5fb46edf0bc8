"""The archive (Public 360): the child, the screened archive case, minutes and summaries.

The archive is the municipality's own records system: it receives minutes from every
level, also before a stafettlogg exists. Public titles never carry a name or a nin.
"""

from __future__ import annotations

from adapter.events import MeetingHeldData, MeetingKind
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    AppendLog,
    CreateDocument,
    DocumentSource,
    EnsureArchiveCase,
    SyncPerson,
)
from adapter.planning.rules.context import Ctx
from adapter.planning.state import CaseState

__all__ = [
    "ARCHIVE_CASE_LINK",
    "CASE_TITLE",
    "MEETING_TITLES",
    "MINUTES_LOG_TEXT",
    "archive_waiting_minutes",
    "ensure_archive_case",
    "minutes_document",
    "minutes_label",
    "minutes_log_line",
    "split_name",
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
"""The Norwegian title of each meeting kind (calendar entries, public document titles)."""

ARCHIVE_CASE_LINK = "archive-case:main"
CASE_TITLE = "Tverrfaglig samarbeid – BTI"
MINUTES_LOG_TEXT = "Referat fra møtet er arkivert"


def split_name(name: str) -> tuple[str, str]:
    """(first_name, last_name): the last word is the last name, the rest the first name."""
    words = name.split()
    return " ".join(words[:-1]), words[-1]


def ensure_archive_case(ctx: Ctx) -> None:
    """SYNC_PERSON (the child) and ENSURE_CASE, once per case."""
    if ctx.state.archive_case_planned:
        return
    child = ctx.state.child
    assert child is not None and child.nin is not None
    first, last = split_name(child.name)
    ctx.emit(
        OpKind.SYNC_PERSON,
        ("archive-person", "child"),
        SyncPerson(nin=child.nin, first_name=first, last_name=last),
        link="archive-person:child",
    )
    ctx.emit(
        OpKind.ENSURE_CASE,
        ("archive-case", "main"),
        EnsureArchiveCase(
            external_id=f"{ctx.state.tenant}:{ctx.state.case_id}",
            external_system=ctx.rules.archive_external_system,
            title=CASE_TITLE,
            unofficial_title=f"{CASE_TITLE} – {child.name}",
            child_nin=child.nin,
        ),
        link=ARCHIVE_CASE_LINK,
    )
    ctx.update(archive_case_planned=True)


def minutes_label(state: CaseState, meeting_id: str) -> tuple[str, int]:
    """The public title word of a meeting's minutes and how many times it will have been held."""
    meeting = state.meetings.get(meeting_id)
    if meeting is None:
        return "Møte", 1
    return MEETING_TITLES[meeting.kind], meeting.times_held + 1


def minutes_document(ctx: Ctx, data: MeetingHeldData, label: str, times_held: int) -> str | None:
    """CREATE_DOCUMENT for the minutes (the person and case first, once); its op_ref.

    None when the tenant has no archive. Minutes of a meeting held again are a document of
    their own (op_ref and link carry the event's sequence).
    """
    if not ctx.rules.archive_enabled:
        return None
    ensure_archive_case(ctx)
    minutes = data.minutes
    again = times_held > 1
    child = ctx.state.child
    document = ctx.emit(
        OpKind.CREATE_DOCUMENT,
        ("minutes", data.meeting_id),
        CreateDocument(
            case_link=ARCHIVE_CASE_LINK,
            title=f"Referat – {label}",
            unofficial_title=minutes.title,
            category=ctx.rules.minutes_category,
            document_date=ctx.event.occurred_at,
            source=DocumentSource(
                document_ref=minutes.document_ref,
                content_base64=minutes.content_base64,
                filename=minutes.filename,
                media_type=minutes.media_type,
                sha256=minutes.sha256,
            ),
            contact_nin=None if child is None else child.nin,
        ),
        suffix=ctx.seq if again else None,
        link=f"minutes:{data.meeting_id}#{ctx.seq}" if again else f"minutes:{data.meeting_id}",
    )
    ctx.update(last_document_ref=document)
    return document


def minutes_log_line(ctx: Ctx, meeting_id: str, times_held: int, document: str) -> None:
    """With a plan: APPEND_LOG noting that the minutes were archived (never their content),
    waiting for the document."""
    if not ctx.can_share:
        return
    note_id = f"minutes-{meeting_id}" if times_held <= 1 else f"minutes-{meeting_id}-{ctx.seq}"
    ctx.emit(
        OpKind.APPEND_LOG,
        ("log", note_id),
        AppendLog(
            plan_link=ctx.plan_link,
            text=MINUTES_LOG_TEXT,
            author_name=ctx.event.actor.name,
            occurred_at=ctx.event.occurred_at,
            external_reference=ctx.item_ref("log", note_id),
        ),
        link=ctx.item_link("log", note_id),
        waits_for=document,
    )


def archive_waiting_minutes(ctx: Ctx, data: MeetingHeldData) -> None:
    """Minutes of a `meeting.held` that must wait for Samspill go to the archive now.

    The archive is the municipality's own record: a held IP transfer, a meeting held back
    for consent or a closed case must not keep minutes out of it. The document is noted in
    `minutes_archived` (by event id), so the event, when it applies, does not archive again.
    """
    event_id = str(ctx.event.event_id)
    if event_id in ctx.state.minutes_archived:
        return
    label, times = minutes_label(ctx.state, data.meeting_id)
    document = minutes_document(ctx, data, label, times)
    if document is not None:
        ctx.put("minutes_archived", event_id, document)
