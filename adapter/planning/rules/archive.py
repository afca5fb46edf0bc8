"""The archive (Public 360): the child, the screened archive case, minutes and summaries.

The archive is the municipality's own records system: it receives minutes from every
level, also before a stafettlogg exists. Public titles never carry a name or a nin.
"""

from __future__ import annotations

from adapter.events import MeetingHeldData
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    AppendLog,
    CreateDocument,
    DocumentSource,
    EnsureArchiveCase,
    SyncPerson,
)
from adapter.planning.rules.context import Ctx

__all__ = [
    "ARCHIVE_CASE_LINK",
    "CASE_TITLE",
    "MINUTES_LOG_TEXT",
    "archive_minutes",
    "ensure_archive_case",
    "split_name",
]

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


def archive_minutes(ctx: Ctx, data: MeetingHeldData, label: str, times_held: int) -> None:
    """CREATE_DOCUMENT for the minutes and, with a plan, the log line that waits for it."""
    if not ctx.rules.archive_enabled:
        return
    ensure_archive_case(ctx)
    minutes = data.minutes
    suffix = None if times_held <= 1 else ctx.seq
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
        ),
        suffix=suffix,
        link=f"minutes:{data.meeting_id}",
    )
    ctx.update(last_document_ref=document)
    if not ctx.can_share:
        return
    note_id = f"minutes-{data.meeting_id}"
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
        suffix=suffix,
        link=ctx.item_link("log", note_id),
        waits_for=document,
    )
