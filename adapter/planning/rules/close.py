"""Closing a case: the active plan and, once its documents are in, the archive case."""

from __future__ import annotations

from adapter.events import CaseClosedData, CloseReason
from adapter.planning.operations import OpKind
from adapter.planning.payloads import CloseArchiveCase, ClosePlan
from adapter.planning.rules.archive import ARCHIVE_CASE_LINK
from adapter.planning.rules.context import Ctx
from adapter.planning.state import PlanStage

__all__ = ["close_case"]


def close_case(ctx: Ctx, data: CaseClosedData) -> None:
    """CLOSE_PLAN (no-further-follow-up → other) and CLOSE_CASE after the last document."""
    if ctx.state.plan is not PlanStage.NONE:
        reason = "other" if data.reason is CloseReason.NO_FURTHER_FOLLOW_UP else data.reason.value
        ctx.emit(
            OpKind.CLOSE_PLAN,
            ("plan", ctx.state.plan.value),
            ClosePlan.model_validate({"plan_link": ctx.plan_link, "reason": reason}),
            suffix=ctx.seq,
        )
    if ctx.rules.archive_enabled and ctx.state.archive_case_planned:
        ctx.emit(
            OpKind.CLOSE_CASE,
            ("archive-case", "main"),
            CloseArchiveCase(case_link=ARCHIVE_CASE_LINK),
            suffix=ctx.seq,
            waits_for=ctx.state.last_document_ref,
        )
    ctx.update(closed=True, closed_at=ctx.event.occurred_at)
