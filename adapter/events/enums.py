"""The closed vocabularies of the event contract (events.md), as string enums."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "EXTERNAL_EVENT_TYPES",
    "INTERNAL_EVENT_TYPES",
    "Arena",
    "CloseReason",
    "EventType",
    "GoalOutcome",
    "MeetingKind",
    "Outcome",
    "Relation",
    "RoleKey",
    "ServiceKey",
]


class EventType(StrEnum):
    """Every event type; `consent.expired` is internal (stored by the service itself)."""

    CASE_OPENED = "case.opened"
    STEP_ENTERED = "step.entered"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    CONSENT_EXPIRED = "consent.expired"
    PARTICIPANT_ADDED = "participant.added"
    PARTICIPANT_REMOVED = "participant.removed"
    STAFETTHOLDER_CHANGED = "stafettholder.changed"
    GOAL_SET = "goal.set"
    GOAL_UPDATED = "goal.updated"
    GOAL_CLOSED = "goal.closed"
    MEASURE_AGREED = "measure.agreed"
    MEASURE_UPDATED = "measure.updated"
    MEASURE_ENDED = "measure.ended"
    RESPONSIBILITY_ASSIGNED = "responsibility.assigned"
    RESPONSIBILITY_COMPLETED = "responsibility.completed"
    MEETING_SCHEDULED = "meeting.scheduled"
    MEETING_RESCHEDULED = "meeting.rescheduled"
    MEETING_CANCELLED = "meeting.cancelled"
    MEETING_HELD = "meeting.held"
    DECISION_RECORDED = "decision.recorded"
    LOG_NOTED = "log.noted"
    IP_GRANTED = "ip.granted"
    CASE_CLOSED = "case.closed"


INTERNAL_EVENT_TYPES: frozenset[EventType] = frozenset({EventType.CONSENT_EXPIRED})
"""Types only the service itself stores; the outside doors reject them."""

EXTERNAL_EVENT_TYPES: frozenset[EventType] = frozenset(EventType) - INTERNAL_EVENT_TYPES
"""Types the internal case system may send."""


class ServiceKey(StrEnum):
    """The municipal services a participant, consent or actor belongs to."""

    BARNEHAGE = "barnehage"
    SKOLE = "skole"
    SFO = "sfo"
    HELSESTASJON = "helsestasjon"
    SKOLEHELSETJENESTE = "skolehelsetjeneste"
    PPT = "ppt"
    BARNEVERN = "barnevern"
    NAV = "nav"
    FAMILIENS_HUS = "familiens-hus"
    PSYKISK_HELSE = "psykisk-helse"
    FASTLEGE = "fastlege"
    ANNET = "annet"


class Relation(StrEnum):
    """How a guardian or consent giver relates to the child (`barnet`: the child itself)."""

    MOR = "mor"
    FAR = "far"
    FORESATT = "foresatt"
    VERGE = "verge"
    BARNET = "barnet"


class RoleKey(StrEnum):
    """A service participant's role in the plan."""

    DELTAKER = "deltaker"
    LEDER = "leder"


class MeetingKind(StrEnum):
    """The BTI meeting kinds."""

    UNDRINGSSAMTALE = "undringssamtale"
    OPPFOLGINGSSAMTALE = "oppfolgingssamtale"
    RESSURSTEAM = "ressursteam"
    SAMARBEIDSMOTE = "samarbeidsmote"
    NETTVERKSMOTE = "nettverksmote"
    UTVIDET_NETTVERKSMOTE = "utvidet-nettverksmote"
    EVALUERINGSMOTE = "evalueringsmote"


class Outcome(StrEnum):
    """What a BTI decision says happens next."""

    CLOSE = "close"
    CONTINUE = "continue"
    ESCALATE = "escalate"
    REFER = "refer"
    IP = "ip"


class GoalOutcome(StrEnum):
    """How a goal ended."""

    ACHIEVED = "achieved"
    DISCONTINUED = "discontinued"


class Arena(StrEnum):
    """Where a measure ("tiltak") takes place."""

    HJEM = "hjem"
    BARNEHAGE = "barnehage"
    SKOLE = "skole"
    HELSESTASJON = "helsestasjon"
    FRITID = "fritid"
    ANNET = "annet"


class CloseReason(StrEnum):
    """Why a case was closed."""

    GOALS_ACHIEVED = "goals-achieved"
    GUARDIAN_REQUEST = "guardian-request"
    NO_FURTHER_FOLLOW_UP = "no-further-follow-up"
    OTHER = "other"
