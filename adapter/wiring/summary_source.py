"""The closing summary of a stafettlogg: the snapshot the planner put in the operation's
payload when the stafettlogg was transferred (no nins, no names), as the archive's PDF
renderer wants it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapter.errors import PermanentError
from adapter.planning.payloads import CreateDocument, SummarySnapshot
from adapter.targets.summary import (
    ClosingSummary,
    SummaryItem,
    SummaryMeeting,
    SummaryParticipant,
)

__all__ = ["from_snapshot", "summary_provider"]


def from_snapshot(tenant: str, case_id: str, snapshot: SummarySnapshot) -> ClosingSummary:
    """The summary the planner took when the stafettlogg was transferred."""
    return ClosingSummary(
        tenant=tenant,
        case_id=case_id,
        transferred_at=snapshot.transferred_at,
        goals=tuple(SummaryItem(**g.model_dump()) for g in snapshot.goals),
        measures=tuple(SummaryItem(**m.model_dump()) for m in snapshot.measures),
        meetings_held=tuple(SummaryMeeting(**m.model_dump()) for m in snapshot.meetings_held),
        participants=tuple(SummaryParticipant(**p.model_dump()) for p in snapshot.participants),
    )


def summary_provider() -> Callable[[str, CreateDocument], Awaitable[ClosingSummary]]:
    """(op_ref, payload) → the closing summary the payload carries."""

    async def provide(op_ref: str, payload: CreateDocument) -> ClosingSummary:
        parts = op_ref.split(":")
        if len(parts) < 4 or parts[0] != "stafett":
            raise PermanentError(f"not a stafett operation reference: {op_ref!r}")
        if payload.summary is None:
            raise PermanentError(
                "the closing-summary operation carries no summary snapshot", op_ref=op_ref
            )
        return from_snapshot(parts[1], parts[2], payload.summary)

    return provide
