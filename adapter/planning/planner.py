"""The pure planner: a case's events in, its new state, operations and decisions out.

No clocks, no randomness, no I/O: the same events in the same order from the same state
give the same operations. Events apply in sequence order from `last_sequence + 1`; a gap
holds the later events ("waiting for sequence N"); a sequence already planned is a
duplicate. An event held by a rule (no consent, a held item, a held IP transfer) is kept
in the state and retried, in sequence order, after every event that applies; a later
event that creates the same item (or moves the baton again) supersedes it.

While a plan exists, content is shared only when an active consent covers the plan
lead's service (the stafettholder's, or the coordinator's in an IP): without one, every
event that would share is held. Minutes are the archive's and never wait for Samspill:
a `meeting.held` that is held archives its minutes at once, and one after the case has
closed goes to the archive only.

Internal events (`consent.expired`, stored by the service's expiry job) have no sequence
of their own: they carry the sequence they were stored after and apply right after it
(or at once when that is planned already), whatever waits behind a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from adapter.events import (
    INTERNAL_EVENT_TYPES,
    Event,
    EventType,
    MeetingHeldData,
    validation_context,
)
from adapter.planning.clock import oslo_date
from adapter.planning.operations import Operation
from adapter.planning.rules.archive import archive_waiting_minutes
from adapter.planning.rules.case import enter_step, open_case
from adapter.planning.rules.close import close_case
from adapter.planning.rules.consent import end_consent, grant_consent, lapse_consents
from adapter.planning.rules.context import Ctx, Hold, Reject, no_consent_reason
from adapter.planning.rules.deadlines import record_decision
from adapter.planning.rules.items import (
    agree_measure,
    assign_responsibility,
    close_goal,
    complete_responsibility,
    end_measure,
    set_goal,
    update_goal,
    update_measure,
)
from adapter.planning.rules.lead import change_stafettholder
from adapter.planning.rules.log import note_log
from adapter.planning.rules.meetings import (
    cancel_meeting,
    hold_meeting,
    reschedule_meeting,
    schedule_meeting,
)
from adapter.planning.rules.participants import add_participant, remove_participant
from adapter.planning.rules.plan import maybe_create_plan, share_pending
from adapter.planning.rules.tenant import PlanningRules
from adapter.planning.rules.transfer import grant_ip
from adapter.planning.state import CaseState, ConsentStatus, HeldEvent

__all__ = ["EventDecision", "Outcome", "PlanResult", "plan_events", "replay"]

CASE_NOT_OPENED = "case not opened"
CASE_CLOSED = "case is closed"
CASE_PURGED = "case is closed and its personal data purged (retention)"
_CONSENT_TYPES = frozenset(
    {EventType.CONSENT_GRANTED, EventType.CONSENT_WITHDRAWN, EventType.CONSENT_EXPIRED}
)
_SHARING_TYPES = frozenset(
    {
        EventType.PARTICIPANT_ADDED,
        EventType.GOAL_SET,
        EventType.GOAL_UPDATED,
        EventType.GOAL_CLOSED,
        EventType.MEASURE_AGREED,
        EventType.MEASURE_UPDATED,
        EventType.MEASURE_ENDED,
        EventType.RESPONSIBILITY_ASSIGNED,
        EventType.RESPONSIBILITY_COMPLETED,
        EventType.MEETING_SCHEDULED,
        EventType.MEETING_RESCHEDULED,
        EventType.MEETING_CANCELLED,
        EventType.MEETING_HELD,
        EventType.DECISION_RECORDED,
        EventType.LOG_NOTED,
    }
)
"""Events that put content on the plan: they wait while no consent covers the lead's service.
(Consents, steps, removals, the baton, the transfer and closing have rules of their own.)"""


class Outcome(StrEnum):
    """What the planner did with one event."""

    APPLIED = "applied"
    HELD = "held"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class EventDecision:
    """The outcome for one event, with the reason when it was not applied."""

    event_id: str
    sequence: int
    outcome: Outcome
    reason: str | None = None


@dataclass(frozen=True)
class PlanResult:
    """The case's new state, the operations in the order they must run, and the decisions."""

    state: CaseState
    operations: tuple[Operation, ...]
    decisions: tuple[EventDecision, ...]


_Handler = Callable[[Ctx, Any], None]

_HANDLERS: dict[EventType, _Handler] = {
    EventType.CASE_OPENED: open_case,
    EventType.STEP_ENTERED: enter_step,
    EventType.CONSENT_GRANTED: grant_consent,
    EventType.CONSENT_WITHDRAWN: lambda ctx, d: end_consent(
        ctx, d.consent_id, ConsentStatus.WITHDRAWN
    ),
    EventType.CONSENT_EXPIRED: lambda ctx, d: end_consent(ctx, d.consent_id, ConsentStatus.EXPIRED),
    EventType.PARTICIPANT_ADDED: add_participant,
    EventType.PARTICIPANT_REMOVED: remove_participant,
    EventType.STAFETTHOLDER_CHANGED: change_stafettholder,
    EventType.GOAL_SET: set_goal,
    EventType.GOAL_UPDATED: update_goal,
    EventType.GOAL_CLOSED: close_goal,
    EventType.MEASURE_AGREED: agree_measure,
    EventType.MEASURE_UPDATED: update_measure,
    EventType.MEASURE_ENDED: end_measure,
    EventType.RESPONSIBILITY_ASSIGNED: assign_responsibility,
    EventType.RESPONSIBILITY_COMPLETED: complete_responsibility,
    EventType.MEETING_SCHEDULED: schedule_meeting,
    EventType.MEETING_RESCHEDULED: reschedule_meeting,
    EventType.MEETING_CANCELLED: cancel_meeting,
    EventType.MEETING_HELD: hold_meeting,
    EventType.DECISION_RECORDED: record_decision,
    EventType.LOG_NOTED: note_log,
    EventType.IP_GRANTED: grant_ip,
    EventType.CASE_CLOSED: close_case,
}


def _load(held: HeldEvent) -> Event:
    # Stored events were validated on the way in; synthetic nins are theirs to keep.
    return Event.model_validate_json(
        held.event_json, context=validation_context(accept_synthetic_nin=True)
    )


class _Run:
    """One planning call: the state as it moves, and what it has produced so far."""

    def __init__(self, state: CaseState, rules: PlanningRules):
        self.state = state
        self.rules = rules
        self.operations: list[Operation] = []
        self.decisions: list[EventDecision] = []

    def decide(self, event: Event, outcome: Outcome, reason: str | None = None) -> None:
        self.decisions.append(EventDecision(str(event.event_id), event.sequence, outcome, reason))

    def attempt(self, event: Event, at_date: date) -> Ctx:
        """Apply one event to a context; raises Hold or Reject without side effects."""
        state = self.state
        if not state.opened:
            if event.type is not EventType.CASE_OPENED or event.sequence != 1:
                raise Reject(CASE_NOT_OPENED)
        elif event.type is EventType.CASE_OPENED:
            raise Reject("case already opened")
        if state.purged:
            raise Reject(CASE_PURGED)
        if state.closed:
            if isinstance(event.data, MeetingHeldData):
                # the archive case is closed too: the document parks ("archive case closed")
                # for an archivist to reopen it, instead of the minutes being lost
                ctx = Ctx(state, event, self.rules, at_date)
                archive_waiting_minutes(ctx, event.data)
                return ctx
            raise Reject(CASE_CLOSED)
        if (
            state.transfer_held is not None
            and event.sequence > state.transfer_held
            and event.type not in _CONSENT_TYPES
        ):
            raise Hold(
                f"waiting for the IP transfer (sequence {state.transfer_held})",
                item=_item_of(event),
            )
        ctx = Ctx(state, event, self.rules, at_date)
        lapse_consents(ctx)
        _require_lead_covered(ctx)
        _HANDLERS[event.type](ctx, event.data)
        if not maybe_create_plan(ctx):
            share_pending(ctx)
        return ctx

    def process(self, event: Event) -> None:
        """Apply the next event in sequence; then retry the held ones."""
        self.state = self.state.model_copy(update={"last_sequence": event.sequence})
        at_date = oslo_date(event.occurred_at)
        try:
            ctx = self.attempt(event, at_date)
        except Reject as rejected:
            self.decide(event, Outcome.REJECTED, rejected.reason)
            return
        except Hold as hold:
            self._keep(event, hold)
            self._archive_if_minutes(event, at_date)
            self.decide(event, Outcome.HELD, hold.reason)
            return
        self._commit(ctx)
        self.decide(event, Outcome.APPLIED)
        self._supersede(event)
        self._retry_held(at_date)

    def process_internal(self, event: Event) -> None:
        """Apply an internal event (no sequence of its own); it never waits and never rejects.

        When there is nothing left for it to do (the consent ended already, the case closed)
        it is a no-op, recorded as such.
        """
        at_date = oslo_date(event.occurred_at)
        try:
            ctx = self.attempt(event, at_date)
        except (Reject, Hold) as nothing:
            self.decide(event, Outcome.DUPLICATE, f"nothing to do: {nothing.reason}")
            return
        if not ctx.ops and ctx.state == self.state:
            self.decide(event, Outcome.DUPLICATE, "nothing to do: it has ended already")
            return
        self._commit(ctx)
        self.decide(event, Outcome.APPLIED)

    def _archive_if_minutes(self, event: Event, at_date: date) -> None:
        """The minutes of a held `meeting.held` go to the archive now (see the module doc)."""
        if not isinstance(event.data, MeetingHeldData) or not self.state.opened:
            return
        ctx = Ctx(self.state, event, self.rules, at_date)
        archive_waiting_minutes(ctx, event.data)
        self._commit(ctx)

    def _keep(self, event: Event, hold: Hold) -> None:
        held_items = self.state.held_items
        if hold.item is not None and hold.item not in held_items:
            held_items = (*held_items, hold.item)
        kept = HeldEvent(
            sequence=event.sequence,
            event_id=str(event.event_id),
            reason=hold.reason,
            event_json=event.model_dump_json(),
        )
        others = tuple(h for h in self.state.held if h.sequence != event.sequence)
        transfer_held = event.sequence if hold.blocks else self.state.transfer_held
        self.state = self.state.model_copy(
            update={
                "held": tuple(sorted((*others, kept), key=lambda h: h.sequence)),
                "held_items": held_items,
                "transfer_held": transfer_held,
            }
        )
        self._supersede(event)

    def _commit(self, ctx: Ctx) -> None:
        self.state = ctx.state
        self.operations.extend(ctx.ops)

    def _supersede(self, event: Event) -> None:
        """Drop earlier held events that `event` replaces: a create of the same item, or an
        earlier accepted baton change. Applied late, they would undo the newer instruction."""
        key = _supersede_key(event)
        if key is None:
            return
        for held in list(self.state.held):
            if held.gap or held.sequence >= event.sequence:
                continue
            older = _load(held)
            if _supersede_key(older) == key:
                self._drop(held)
                self.decide(older, Outcome.DUPLICATE, f"superseded by sequence {event.sequence}")

    def _retry_held(self, at_date: date) -> None:
        """Retry rule-held events in sequence order, judged at the releasing event's date."""
        for held in [h for h in self.state.held if not h.gap]:
            if held not in self.state.held:
                continue  # superseded meanwhile
            event = _load(held)
            try:
                ctx = self.attempt(event, max(at_date, oslo_date(event.occurred_at)))
            except Hold as hold:
                if hold.reason != held.reason:
                    self._keep(event, hold)
                    self.decide(event, Outcome.HELD, hold.reason)
                continue
            except Reject as rejected:
                self._drop(held)
                self.decide(event, Outcome.REJECTED, rejected.reason)
                continue
            self._commit(ctx)
            self._drop(held)
            self.decide(event, Outcome.APPLIED)
            self._supersede(event)

    def _drop(self, held: HeldEvent) -> None:
        event = _load(held)
        item = _item_of(event)
        self.state = self.state.model_copy(
            update={
                "held": tuple(h for h in self.state.held if h.sequence != held.sequence),
                "held_items": tuple(i for i in self.state.held_items if i != item),
                "transfer_held": None
                if self.state.transfer_held == held.sequence
                else self.state.transfer_held,
            }
        )


def _require_lead_covered(ctx: Ctx) -> None:
    """Hold content while no active consent covers the plan lead's service."""
    state = ctx.state
    lead = state.lead
    if (
        ctx.event.type in _SHARING_TYPES
        and ctx.can_share
        and lead is not None
        and not ctx.covered(lead.service)
    ):
        raise Hold(no_consent_reason(lead.service), item=_item_of(ctx.event))


_CREATES: dict[EventType, tuple[str, str]] = {
    EventType.PARTICIPANT_ADDED: ("participant", "participant_id"),
    EventType.MEASURE_AGREED: ("measure", "measure_id"),
    EventType.RESPONSIBILITY_ASSIGNED: ("responsibility", "responsibility_id"),
    EventType.MEETING_SCHEDULED: ("meeting", "meeting_id"),
}


def _item_of(event: Event) -> str | None:
    """The item key an event creates, for the items held with their event."""
    creates = _CREATES.get(event.type)
    if creates is None:
        return None
    kind, attr = creates
    return f"{kind}:{getattr(event.data, attr)}"


def _supersede_key(event: Event) -> str | None:
    """What a later event of the same key replaces: an item's create, or the baton."""
    if event.type is EventType.STAFETTHOLDER_CHANGED:
        return "baton" if getattr(event.data, "accepted_at", None) is not None else None
    return _item_of(event)


def plan_events(
    state: CaseState | None, events: Sequence[Event], rules: PlanningRules
) -> PlanResult:
    """Plan a case's new events (any order) on top of `state` (None: a new case)."""
    if state is None:
        if not events:
            raise ValueError("plan_events needs a state or at least one event")
        state = CaseState(tenant=rules.tenant, case_id=events[0].case_id)
    run = _Run(state, rules)
    queue: dict[int, Event] = {}
    for held in state.held:
        if held.gap:
            queue[held.sequence] = _load(held)
    run.state = state.model_copy(update={"held": tuple(h for h in state.held if not h.gap)})
    rule_held = {h.sequence for h in run.state.held}
    new_ids: set[str] = set()
    internal: list[Event] = []
    for event in sorted(events, key=lambda e: e.sequence):
        if event.case_id != state.case_id or event.tenant != state.tenant:
            run.decide(event, Outcome.REJECTED, "event belongs to another case")
        elif event.type in INTERNAL_EVENT_TYPES:
            internal.append(event)
        elif (
            event.sequence <= state.last_sequence
            or event.sequence in queue
            or event.sequence in rule_held
        ):
            run.decide(event, Outcome.DUPLICATE, f"sequence {event.sequence} already planned")
        else:
            queue[event.sequence] = event
            new_ids.add(str(event.event_id))
    internal.sort(key=lambda e: (e.sequence, e.occurred_at, str(e.event_id)))

    def apply_internal(upto: int) -> None:
        while internal and internal[0].sequence <= upto:
            run.process_internal(internal.pop(0))

    apply_internal(run.state.last_sequence)
    while run.state.last_sequence + 1 in queue:
        run.process(queue.pop(run.state.last_sequence + 1))
        apply_internal(run.state.last_sequence)
    apply_internal(2**63)  # after a gap: an expiry never waits for the sender's sequence
    waiting = f"waiting for sequence {run.state.last_sequence + 1}"
    gap_held = []
    for sequence in sorted(queue):
        event = queue[sequence]
        gap_held.append(
            HeldEvent(
                sequence=sequence,
                event_id=str(event.event_id),
                reason=waiting,
                event_json=event.model_dump_json(),
                gap=True,
            )
        )
        if str(event.event_id) in new_ids:
            run.decide(event, Outcome.HELD, waiting)
    final = run.state.model_copy(update={"held": (*run.state.held, *gap_held)})
    return PlanResult(final, tuple(run.operations), tuple(run.decisions))


def replay(events: Sequence[Event], rules: PlanningRules) -> PlanResult:
    """Plan all of a case's events from an empty state (resync)."""
    return plan_events(None, events, rules)
