"""The closing summary of a stafettlogg: the planner's snapshot in the payload (no nins,
no names), or — for operations planned before snapshots existed — the case's planned state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapter.errors import PermanentError
from adapter.planning import CaseState
from adapter.planning.payloads import CreateDocument, SummarySnapshot
from adapter.planning.state import MeetingStatus
from adapter.store.store import Store
from adapter.targets.summary import (
    ClosingSummary,
    SummaryItem,
    SummaryMeeting,
    SummaryParticipant,
)

__all__ = ["closing_summary", "from_snapshot", "summary_provider"]


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


def from_snapshot(tenant: str, case_id: str, snapshot: SummarySnapshot) -> ClosingSummary:
    """The summary the planner took when the stafettlogg was transferred or closed."""
    return ClosingSummary(
        tenant=tenant,
        case_id=case_id,
        transferred_at=snapshot.transferred_at,
        goals=tuple(SummaryItem(**g.model_dump()) for g in snapshot.goals),
        measures=tuple(SummaryItem(**m.model_dump()) for m in snapshot.measures),
        meetings_held=tuple(SummaryMeeting(**m.model_dump()) for m in snapshot.meetings_held),
        participants=tuple(SummaryParticipant(**p.model_dump()) for p in snapshot.participants),
    )


def summary_provider(store: Store) -> Callable[[str, CreateDocument], Awaitable[ClosingSummary]]:
    """(op_ref, payload) → the closing summary of the case the op_ref names."""

    async def provide(op_ref: str, payload: CreateDocument) -> ClosingSummary:
        parts = op_ref.split(":")
        if len(parts) < 4 or parts[0] != "stafett":
            raise PermanentError(f"not a stafett operation reference: {op_ref!r}")
        tenant, case_id = parts[1], parts[2]
        if payload.summary is not None:
            return from_snapshot(tenant, case_id, payload.summary)
        record = await store.load_case(tenant, case_id)
        if record is None:
            raise PermanentError(f"no planned state for case {tenant}/{case_id}", op_ref=op_ref)
        return closing_summary(CaseState.model_validate_json(record.state))

    return provide
