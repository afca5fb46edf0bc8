"""The planning step: feed each case's new events to the pure planner, commit the outcome.

One case at a time, all or nothing: the case's new state, its events' new states and the
operations it asks for are committed in one transaction (`Store.commit_plan`), guarded by
the case's version, so two replicas planning the same case never both succeed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapter.errors import RejectedInput
from adapter.events import Event, RulesLookup, parse_event
from adapter.logs import get_logger
from adapter.planning import CaseState, PlanningRules, plan_events
from adapter.planning import Outcome as Decision
from adapter.store.cases_repo import CaseVersionConflict
from adapter.store.ports import PlanningStore
from adapter.store.records import CaseKey, EventStateChange, PlanCommit, StoredEvent
from adapter.store.states import EventState
from adapter.wiring.runtime import Runtime

__all__ = ["PlanStep", "PlanStepReport", "load_events", "plan_case", "plan_pending"]

log = get_logger(__name__)

_STATE_OF = {
    Decision.APPLIED: EventState.PLANNED,
    Decision.DUPLICATE: EventState.PLANNED,
    Decision.HELD: EventState.HELD,
    Decision.REJECTED: EventState.REJECTED,
}


@dataclass
class PlanStepReport:
    """What one planning pass did."""

    cases: int = 0
    events_planned: int = 0
    events_held: int = 0
    events_rejected: int = 0
    operations: int = 0
    conflicts: int = 0
    held_reasons: dict[str, str] = field(default_factory=dict)


def load_events(
    rows: list[StoredEvent], lookup: RulesLookup
) -> tuple[list[Event], dict[str, StoredEvent], list[tuple[StoredEvent, str]]]:
    """Stored rows → events (re-validated), rows by event_id, and rows that no longer parse."""
    events: list[Event] = []
    by_id: dict[str, StoredEvent] = {}
    broken: list[tuple[StoredEvent, str]] = []
    for row in rows:
        try:
            event = parse_event(json.loads(row.payload), rules=lookup, allow_internal=True)
        except (RejectedInput, ValueError) as exc:
            broken.append((row, f"no longer valid: {exc}"))
            continue
        events.append(event)
        by_id[str(event.event_id)] = row
    return events, by_id, broken


async def plan_case(
    store: PlanningStore,
    key: CaseKey,
    rules: PlanningRules,
    lookup: RulesLookup,
    report: PlanStepReport,
) -> None:
    """Plan the accepted events of one case and commit the result."""
    record = await store.cases.load_case(key.tenant, key.case_id)
    state = None if record is None else CaseState.model_validate_json(record.state)
    rows = [
        r
        for r in await store.events.events_for_case(key.tenant, key.case_id)
        if r.state is EventState.ACCEPTED
    ]
    if not rows:
        return
    events, by_id, broken = load_events(rows, lookup)
    result = plan_events(state, events, rules)
    changes = [
        EventStateChange(id=row.id, state=EventState.REJECTED, reason=reason)
        for row, reason in broken
    ]
    for decision in result.decisions:
        row = by_id.get(decision.event_id)
        if row is None:
            continue  # a held event released now was stored held: look it up below
        changes.append(
            EventStateChange(id=row.id, state=_STATE_OF[decision.outcome], reason=decision.reason)
        )
    released = [d for d in result.decisions if d.event_id not in by_id]
    if released:
        held_rows = {
            r.event_id: r
            for r in await store.events.events_for_case(key.tenant, key.case_id)
            if r.state is EventState.HELD
        }
        for decision in released:
            held = held_rows.get(decision.event_id)
            if held is not None:
                changes.append(
                    EventStateChange(
                        id=held.id, state=_STATE_OF[decision.outcome], reason=decision.reason
                    )
                )
    commit = PlanCommit(
        tenant=key.tenant,
        case_id=key.case_id,
        expected_version=None if record is None else record.version,
        state=result.state.model_dump_json(),
        last_sequence_planned=result.state.last_sequence,
        closed_at=result.state.closed_at,
        events=tuple(changes),
        operations=result.operations,
    )
    try:
        await store.cases.commit_plan(commit)
    except CaseVersionConflict:
        report.conflicts += 1
        log.info("case planned elsewhere meanwhile; next pass", tenant=key.tenant, case=key.case_id)
        return
    report.cases += 1
    report.operations += len(result.operations)
    for change in changes:
        if change.state is EventState.PLANNED:
            report.events_planned += 1
        elif change.state is EventState.HELD:
            report.events_held += 1
        elif change.state is EventState.REJECTED:
            report.events_rejected += 1


async def plan_pending(
    store: PlanningStore, rules: Mapping[str, PlanningRules], lookup: RulesLookup
) -> PlanStepReport:
    """Plan every case that has accepted (new) events; tenants without rules are left alone."""
    report = PlanStepReport()
    for key in await store.events.cases_with_events((EventState.ACCEPTED,)):
        tenant_rules = rules.get(key.tenant)
        if tenant_rules is None:
            continue
        await plan_case(store, key, tenant_rules, lookup, report)
    return report


class PlanStep:
    """The `plan` job: `plan_pending` over the runtime's store and tenants."""

    name = "plan"
    singleton = False

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def run(self) -> PlanStepReport:
        """Plan the stored events that wait."""
        return await plan_pending(self._rt.store, self._rt.rules, self._rt.lookup)
