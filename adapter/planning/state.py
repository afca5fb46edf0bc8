"""The planner's per-case state: what the case holds and what has been shared where.

`CaseState` is frozen and JSON round-trippable; the engine stores it per case. Items keep
`link`: the links-table key under which they exist on the current or an earlier plan
(``goal:G1`` on the stafettlogg, ``ip/goal:G1`` on the IP), `None` while not shared.
Held events are kept as their JSON so the state never re-validates personal numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CaseState",
    "ConsentState",
    "ConsentStatus",
    "DeadlineState",
    "GivenByState",
    "GoalState",
    "GoalStatus",
    "GuardianState",
    "HeldEvent",
    "MeasureState",
    "MeasureStatus",
    "MeetingState",
    "MeetingStatus",
    "ParticipantState",
    "ParticipantStatus",
    "PersonState",
    "PlanStage",
    "ResponsibilityState",
    "ServicePersonState",
]


MeasureStatus = Literal["planned", "active", "ended"]
"""A measure's status as Samspill names it; derived from dates, never stored."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanStage(StrEnum):
    """Which remote plan the case has: none yet, the stafettlogg, or the IP after transfer."""

    NONE = "none"
    STAFETTLOGG = "stafettlogg"
    IP = "ip"


class ConsentStatus(StrEnum):
    """A consent's own status; dates are judged separately."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ParticipantStatus(StrEnum):
    """A service participant's standing in the case."""

    ACTIVE = "active"
    REMOVED = "removed"
    REMOVED_BY_CONSENT = "removed-by-consent"


class GoalStatus(StrEnum):
    """A goal's status, as Samspill names it."""

    ACTIVE = "active"
    ACHIEVED = "achieved"
    DISCONTINUED = "discontinued"


class MeetingStatus(StrEnum):
    """A calendar entry's status, as Samspill names it."""

    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class PersonState(_Frozen):
    """A person with an optional nin."""

    name: str
    nin: str | None = None


class ServicePersonState(PersonState):
    """A person working in a service (stafettholder, coordinator)."""

    service: str


class GuardianState(PersonState):
    """A guardian and the link key of their family participant."""

    relation: str
    guardian_id: str | None = None
    link: str


class GivenByState(PersonState):
    """Who gave a consent."""

    relation: str


class ConsentState(_Frozen):
    """A consent as granted, its status and where it was shared."""

    consent_id: str
    given_by: tuple[GivenByState, ...]
    services: tuple[str, ...]
    valid_from: date
    valid_to: date | None = None
    document_ref: str | None = None
    status: ConsentStatus = ConsentStatus.GRANTED
    link: str | None = None

    def active_on(self, day: date) -> bool:
        """Granted, not withdrawn or expired, and `day` within the (inclusive) period."""
        return (
            self.status is ConsentStatus.GRANTED
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


class ParticipantState(_Frozen):
    """A service participant of the case."""

    participant_id: str
    name: str
    nin: str | None = None
    role: str
    service: str
    status: ParticipantStatus = ParticipantStatus.ACTIVE
    level0: bool = False
    link: str | None = None
    ever_shared: bool = False


class GoalState(_Frozen):
    """A goal ("mål")."""

    goal_id: str
    title: str
    description: str | None = None
    target_date: date | None = None
    status: GoalStatus = GoalStatus.ACTIVE
    evaluation: str | None = None
    level0: bool = False
    link: str | None = None


class MeasureState(_Frozen):
    """A measure ("tiltak"); its status follows from its dates at the judging date."""

    measure_id: str
    goal_id: str | None = None
    title: str
    arena: str
    responsible_participant_id: str | None = None
    responsible_service: str | None = None
    start_date: date
    end_date: date | None = None
    ended: bool = False
    evaluation: str | None = None
    level0: bool = False
    link: str | None = None

    def status_on(self, day: date) -> MeasureStatus:
        """planned when it starts after `day`, ended when ended or past its end, else active."""
        if self.ended or (self.end_date is not None and self.end_date < day):
            return "ended"
        if self.start_date > day:
            return "planned"
        return "active"


class ResponsibilityState(_Frozen):
    """A responsibility ("ansvar")."""

    responsibility_id: str
    participant_id: str
    task: str
    due_date: date | None = None
    done: bool = False
    level0: bool = False
    link: str | None = None


class MeetingState(_Frozen):
    """A meeting and its calendar entry."""

    meeting_id: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    location: str | None = None
    participant_ids: tuple[str, ...] = ()
    status: MeetingStatus = MeetingStatus.PLANNED
    level0: bool = False
    link: str | None = None
    times_held: int = 0


class DeadlineState(_Frozen):
    """The current follow-up deadline from the latest decision that set one."""

    sequence: int
    decided_at: datetime
    deadline: date
    level0: bool = False
    link: str | None = None


class HeldEvent(_Frozen):
    """An event kept back, as its JSON, with the reason and the level it arrived at."""

    sequence: int
    event_id: str
    reason: str
    event_json: str
    gap: bool = False


class CaseState(_Frozen):
    """Everything the planner knows about one case after the events it has planned."""

    tenant: str
    case_id: str
    last_sequence: int = 0
    opened: bool = False
    closed: bool = False
    closed_at: datetime | None = None
    purged: bool = False
    child: PersonState | None = None
    guardians: tuple[GuardianState, ...] = ()
    service: str | None = None
    level: int = 0
    step: int = 1
    plan_step_reached: bool = False
    stafettholder: ServicePersonState | None = None
    proposed_stafettholder: ServicePersonState | None = None
    coordinator: ServicePersonState | None = None
    plan: PlanStage = PlanStage.NONE
    consents: dict[str, ConsentState] = {}
    participants: dict[str, ParticipantState] = {}
    goals: dict[str, GoalState] = {}
    measures: dict[str, MeasureState] = {}
    responsibilities: dict[str, ResponsibilityState] = {}
    meetings: dict[str, MeetingState] = {}
    deadline: DeadlineState | None = None
    held_items: tuple[str, ...] = ()
    transfer_held: int | None = None
    archive_case_planned: bool = False
    last_document_ref: str | None = None
    minutes_archived: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    held: tuple[HeldEvent, ...] = ()

    def purged_copy(self) -> CaseState:
        """What is kept once the retention time after closing has passed: ids, progress and
        where things were shared, never a person or free text (domain rule 8)."""
        return CaseState(
            tenant=self.tenant,
            case_id=self.case_id,
            last_sequence=self.last_sequence,
            opened=self.opened,
            closed=self.closed,
            closed_at=self.closed_at,
            purged=True,
            level=self.level,
            step=self.step,
            plan=self.plan,
            archive_case_planned=self.archive_case_planned,
            last_document_ref=self.last_document_ref,
        )

    @property
    def lead(self) -> ServicePersonState | None:
        """The plan lead now: the coordinator in an IP, else the stafettholder."""
        if self.plan is PlanStage.IP and self.coordinator is not None:
            return self.coordinator
        return self.stafettholder

    @property
    def plan_link(self) -> str | None:
        """The links key of the plan that receives content now, None before the plan."""
        if self.plan is PlanStage.NONE:
            return None
        return "plan:ip" if self.plan is PlanStage.IP else "plan:stafettlogg"

    def on_current_plan(self, link: str | None) -> bool:
        """True when an item's `link` names the plan that receives content now."""
        if link is None or self.plan is PlanStage.NONE:
            return False
        return link.startswith("ip/") == (self.plan is PlanStage.IP)
