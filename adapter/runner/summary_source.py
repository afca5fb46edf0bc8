"""The closing summary of a stafettlogg, built from the case's planned state (no nins, no names)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapter.errors import PermanentError
from adapter.planning import CaseState
from adapter.planning.payloads import CreateDocument
from adapter.planning.state import MeetingStatus
from adapter.store.store import Store
from adapter.targets.summary import (
    ClosingSummary,
    SummaryItem,
    SummaryMeeting,
    SummaryParticipant,
)

__all__ = ["closing_summary", "summary_provider"]


def closing_summary(state: CaseState) -> ClosingSummary:
    """Goals with outcomes, measures with evaluations, meetings held, participants by role."""
    judged = (
        max((m.starts_at for m in state.meetings.values()), default=None)
        if state.meetings
        else None
    )
    day = judged.date() if judged is not None else None
    return ClosingSummary(
        tenant=state.tenant,
        case_id=state.case_id,
        goals=tuple(
            SummaryItem(title=g.title, status=g.status.value, evaluation=g.evaluation)
            for g in state.goals.values()
            if not g.level0
        ),
        measures=tuple(
            SummaryItem(
                title=m.title,
                status=m.status_on(day) if day is not None else ("ended" if m.ended else "active"),
                evaluation=m.evaluation,
            )
            for m in state.measures.values()
            if not m.level0
        ),
        meetings_held=tuple(
            SummaryMeeting(kind=m.kind, date=m.starts_at.date())
            for m in sorted(state.meetings.values(), key=lambda m: m.starts_at)
            if m.status is MeetingStatus.HELD and not m.level0
        ),
        participants=tuple(
            SummaryParticipant(role=p.role, service=p.service)
            for p in state.participants.values()
            if p.ever_shared
        ),
    )


def summary_provider(store: Store) -> Callable[[str, CreateDocument], Awaitable[ClosingSummary]]:
    """(op_ref, payload) → the closing summary of the case the op_ref names."""

    async def provide(op_ref: str, _payload: CreateDocument) -> ClosingSummary:
        parts = op_ref.split(":")
        if len(parts) < 4 or parts[0] != "stafett":
            raise PermanentError(f"not a stafett operation reference: {op_ref!r}")
        tenant, case_id = parts[1], parts[2]
        record = await store.load_case(tenant, case_id)
        if record is None:
            raise PermanentError(f"no planned state for case {tenant}/{case_id}", op_ref=op_ref)
        return closing_summary(CaseState.model_validate_json(record.state))

    return provide
