"""The stafettlogg's log: notes reach it only while a plan exists, never from level 0."""

from __future__ import annotations

from adapter.events import LogNotedData
from adapter.planning.operations import OpKind
from adapter.planning.payloads import AppendLog
from adapter.planning.rules.context import Ctx, Reject

__all__ = ["note_log"]


def note_log(ctx: Ctx, data: LogNotedData) -> None:
    """APPEND_LOG with the actor as author; notes are never carried into a new plan."""
    if data.note_id in ctx.state.notes:
        raise Reject(f"log note '{data.note_id}' exists already; a new note needs a new id")
    ctx.update(notes=(*ctx.state.notes, data.note_id))
    if not ctx.can_share:
        return
    ctx.emit(
        OpKind.APPEND_LOG,
        ("log", data.note_id),
        AppendLog(
            plan_link=ctx.plan_link,
            text=data.text,
            author_name=ctx.event.actor.name,
            occurred_at=ctx.event.occurred_at,
            external_reference=ctx.item_ref("log", data.note_id),
        ),
        link=ctx.item_link("log", data.note_id),
    )
