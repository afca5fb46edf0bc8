"""Samspill bodies (strict: unknown or missing fields are 422), answers and metadata seeds."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer, orgnr

__all__ = [
    "AFFILIATIONS",
    "FAMILY_ROLES",
    "LANGUAGES",
    "PLAN_TYPES",
    "ROLES",
    "AccessArea",
    "Arena",
    "CalendarIn",
    "CalendarOut",
    "CalendarPatch",
    "CalendarStatus",
    "CloseIn",
    "CloseReason",
    "ConsentGiver",
    "ConsentIn",
    "ConsentOut",
    "ConsentPatch",
    "ConsentStatus",
    "Created",
    "GoalIn",
    "GoalOut",
    "GoalPatch",
    "GoalStatus",
    "LogIn",
    "LogOut",
    "MeasureIn",
    "MeasureOut",
    "MeasurePatch",
    "MeasureStatus",
    "MeetingKind",
    "MetadataItem",
    "Nin",
    "ParticipantIn",
    "ParticipantOut",
    "Person",
    "PlanCreate",
    "PlanCreated",
    "PlanList",
    "PlanOut",
    "PlanParticipantIn",
    "PlanStatus",
    "Relation",
    "ResponsibilityIn",
    "ResponsibilityOut",
    "ResponsibilityPatch",
    "ResponsibilityStatus",
    "TransferIn",
    "Transferred",
    "is_valid_nin",
]


def is_valid_nin(value: str) -> bool:
    """Both mod-11 check digits and a real date; Tenor synthetic numbers (month + 80) too."""
    if len(value) != 11 or not value.isdigit():
        return False
    if value[9] != fodselsnummer.calc_check_digit1(value) or value[10] != (
        fodselsnummer.calc_check_digit2(value)
    ):
        return False
    month = int(value[2:4])
    probe = value if month <= 80 else f"{value[:2]}{month - 80:02d}{value[4:]}"
    try:
        fodselsnummer.get_birth_date(probe)
    except StdnumError:
        return False
    return True


def _check_nin(value: str) -> str:
    if not is_valid_nin(value):
        # The message never repeats the number.
        raise ValueError("not a valid national identity number")
    return value


def _check_orgnr(value: str) -> str:
    if not orgnr.is_valid(value) or len(value) != 9:
        raise ValueError("not a valid organisation number")
    return value


Nin = Annotated[str, AfterValidator(_check_nin)]
OrgNumber = Annotated[str, AfterValidator(_check_orgnr)]
Text = Annotated[str, Field(min_length=1)]
ExternalReference = Annotated[str, Field(min_length=1, max_length=255)]

_IN = ConfigDict(frozen=True, extra="forbid")
_OUT = ConfigDict(frozen=True, extra="forbid")

LANGUAGES = ("nb", "nn", "en")

# id -> (nb, nn, en)
PLAN_TYPES: dict[str, tuple[str, str, str]] = {
    "stafettlogg": ("Stafettlogg", "Stafettlogg", "Relay log"),
    "individuell-plan": ("Individuell plan", "Individuell plan", "Individual plan"),
}
ROLES: dict[str, tuple[str, str, str]] = {
    "stafettholder": ("Stafettholder", "Stafetthaldar", "Baton holder"),
    "koordinator": ("Koordinator", "Koordinator", "Coordinator"),
    "foresatt": ("Foresatt", "Føresett", "Guardian"),
    "barn": ("Barn", "Barn", "Child"),
    "deltaker": ("Deltaker", "Deltakar", "Participant"),
    "leder": ("Leder", "Leiar", "Leader"),
}
AFFILIATIONS: dict[str, tuple[str, str, str]] = {
    "barnehage": ("Barnehage", "Barnehage", "Kindergarten"),
    "skole": ("Skole", "Skule", "School"),
    "sfo": ("SFO", "SFO", "After-school programme"),
    "helsestasjon": ("Helsestasjon", "Helsestasjon", "Child health centre"),
    "skolehelsetjeneste": ("Skolehelsetjeneste", "Skulehelseteneste", "School health service"),
    "ppt": ("PPT", "PPT", "Educational-psychological service"),
    "barnevern": ("Barnevern", "Barnevern", "Child welfare"),
    "nav": ("NAV", "NAV", "NAV (labour and welfare)"),
    "familiens-hus": ("Familiens hus", "Familiens hus", "Family centre"),
    "psykisk-helse": ("Psykisk helse", "Psykisk helse", "Mental health"),
    "fastlege": ("Fastlege", "Fastlege", "Regular GP"),
    "annet": ("Annet", "Anna", "Other"),
}
FAMILY_ROLES = frozenset({"foresatt", "barn"})


class PlanStatus(StrEnum):
    """A plan is open for writes or closed."""

    ACTIVE = "active"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a plan was closed."""

    GOALS_ACHIEVED = "goals-achieved"
    GUARDIAN_REQUEST = "guardian-request"
    TRANSFERRED_TO_IP = "transferred-to-ip"
    OTHER = "other"


class ConsentStatus(StrEnum):
    """Coverage is judged by status only; the adapter judges dates."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class GoalStatus(StrEnum):
    """A goal's state."""

    ACTIVE = "active"
    ACHIEVED = "achieved"
    DISCONTINUED = "discontinued"


class MeasureStatus(StrEnum):
    """A measure's state."""

    PLANNED = "planned"
    ACTIVE = "active"
    ENDED = "ended"


class ResponsibilityStatus(StrEnum):
    """A responsibility's state."""

    OPEN = "open"
    DONE = "done"


class CalendarStatus(StrEnum):
    """A calendar entry's state."""

    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class AccessArea(StrEnum):
    """The parts of a plan a participant may see."""

    GOALS_AND_MEASURES = "mal-og-tiltak"
    CALENDAR = "kalender"
    LOG = "logg"
    DOCUMENTS = "dokumenter"
    MESSAGES = "meldinger"


class Arena(StrEnum):
    """Where a measure takes place."""

    HJEM = "hjem"
    BARNEHAGE = "barnehage"
    SKOLE = "skole"
    HELSESTASJON = "helsestasjon"
    FRITID = "fritid"
    ANNET = "annet"


class MeetingKind(StrEnum):
    """Calendar entry kinds: the BTI meeting kinds, and `frist` (a deadline, domain.md)."""

    UNDRINGSSAMTALE = "undringssamtale"
    OPPFOLGINGSSAMTALE = "oppfolgingssamtale"
    RESSURSTEAM = "ressursteam"
    SAMARBEIDSMOTE = "samarbeidsmote"
    NETTVERKSMOTE = "nettverksmote"
    UTVIDET_NETTVERKSMOTE = "utvidet-nettverksmote"
    EVALUERINGSMOTE = "evalueringsmote"
    FRIST = "frist"


class Relation(StrEnum):
    """How a consent giver relates to the child."""

    MOR = "mor"
    FAR = "far"
    FORESATT = "foresatt"
    VERGE = "verge"
    BARNET = "barnet"


class MetadataItem(BaseModel):
    """One plan type, role or affiliation in one language."""

    model_config = _OUT

    id: str
    name: str


class Person(BaseModel):
    """A named person with a valid nin."""

    model_config = _IN

    name: Text
    nin: Nin


class PlanParticipantIn(BaseModel):
    """A participant inside the create-plan body."""

    model_config = _IN

    name: Text
    nin: Nin | None = None
    roleId: str
    affiliationId: str | None = None
    accessAreas: list[AccessArea] = []


class PlanCreate(BaseModel):
    """`POST /plans`."""

    model_config = _IN

    planTypeId: str
    organizationNumber: OrgNumber
    mainPerson: Person
    planLead: Person
    participants: list[PlanParticipantIn] = []
    affiliationId: str | None = None
    externalReference: ExternalReference


class ParticipantIn(BaseModel):
    """`POST /plans/{id}/participants`."""

    model_config = _IN

    name: Text
    nin: Nin | None = None
    roleId: str
    affiliationId: str | None = None
    accessAreas: list[AccessArea]
    externalReference: ExternalReference


class ConsentGiver(BaseModel):
    """Who gave a consent."""

    model_config = _IN

    name: Text
    nin: Nin
    relation: Relation


class ConsentIn(BaseModel):
    """`POST /plans/{id}/consents`."""

    model_config = _IN

    givenBy: list[ConsentGiver] = Field(min_length=1)
    affiliationIds: list[str] = Field(min_length=1)
    validFrom: date
    validTo: date | None = None
    documentReference: str | None = None
    externalReference: ExternalReference


class ConsentPatch(BaseModel):
    """`PATCH /plans/{id}/consents/{id}`: withdraw or expire."""

    model_config = _IN

    status: ConsentStatus


class GoalIn(BaseModel):
    """`POST /plans/{id}/goals`."""

    model_config = _IN

    title: Text
    description: str | None = None
    targetDate: date | None = None
    status: GoalStatus
    evaluation: str | None = None
    externalReference: ExternalReference


class GoalPatch(BaseModel):
    """`PATCH /plans/{id}/goals/{id}`: the fields given are changed."""

    model_config = _IN

    title: Text | None = None
    description: str | None = None
    targetDate: date | None = None
    status: GoalStatus | None = None
    evaluation: str | None = None


class MeasureIn(BaseModel):
    """`POST /plans/{id}/measures`."""

    model_config = _IN

    goalId: str | None = None
    title: Text
    arena: Arena
    responsibleParticipantId: str | None = None
    responsibleAffiliationId: str | None = None
    startDate: date
    endDate: date | None = None
    status: MeasureStatus
    evaluation: str | None = None
    externalReference: ExternalReference


class MeasurePatch(BaseModel):
    """`PATCH /plans/{id}/measures/{id}`."""

    model_config = _IN

    goalId: str | None = None
    title: Text | None = None
    arena: Arena | None = None
    responsibleParticipantId: str | None = None
    responsibleAffiliationId: str | None = None
    startDate: date | None = None
    endDate: date | None = None
    status: MeasureStatus | None = None
    evaluation: str | None = None


class ResponsibilityIn(BaseModel):
    """`POST /plans/{id}/responsibilities`."""

    model_config = _IN

    participantId: Text
    task: Text
    dueDate: date | None = None
    status: ResponsibilityStatus
    externalReference: ExternalReference


class ResponsibilityPatch(BaseModel):
    """`PATCH /plans/{id}/responsibilities/{id}`."""

    model_config = _IN

    participantId: Text | None = None
    task: Text | None = None
    dueDate: date | None = None
    status: ResponsibilityStatus | None = None


class CalendarIn(BaseModel):
    """`POST /plans/{id}/calendar`."""

    model_config = _IN

    title: Text
    kind: MeetingKind
    start: AwareDatetime
    end: AwareDatetime
    location: str | None = None
    participantIds: list[str]
    status: CalendarStatus
    externalReference: ExternalReference


class CalendarPatch(BaseModel):
    """`PATCH /plans/{id}/calendar/{id}`."""

    model_config = _IN

    title: Text | None = None
    kind: MeetingKind | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    location: str | None = None
    participantIds: list[str] | None = None
    status: CalendarStatus | None = None


class LogIn(BaseModel):
    """`POST /plans/{id}/log` (append-only)."""

    model_config = _IN

    text: Text
    authorName: Text
    occurredAt: AwareDatetime
    externalReference: ExternalReference


class CloseIn(BaseModel):
    """`POST /plans/{id}/close`."""

    model_config = _IN

    reason: CloseReason


class TransferIn(BaseModel):
    """`POST /plans/{id}/transfer`."""

    model_config = _IN

    targetPlanTypeId: str
    coordinator: Person
    externalReference: ExternalReference


# --- answers -------------------------------------------------------------------------


class PersonOut(BaseModel):
    """A person as the plan shows it."""

    model_config = _OUT

    name: str
    nin: str


class ParticipantOut(BaseModel):
    """A participant of a plan."""

    model_config = _OUT

    id: str
    name: str
    nin: str | None
    roleId: str
    affiliationId: str | None
    accessAreas: list[AccessArea]
    externalReference: str


class ConsentGiverOut(BaseModel):
    """Who gave a consent."""

    model_config = _OUT

    name: str
    nin: str
    relation: Relation


class ConsentOut(BaseModel):
    """A consent on a plan."""

    model_config = _OUT

    id: str
    givenBy: list[ConsentGiverOut]
    affiliationIds: list[str]
    validFrom: date
    validTo: date | None
    documentReference: str | None
    status: ConsentStatus
    externalReference: str


class GoalOut(BaseModel):
    """A goal."""

    model_config = _OUT

    id: str
    title: str
    description: str | None
    targetDate: date | None
    status: GoalStatus
    evaluation: str | None
    externalReference: str


class MeasureOut(BaseModel):
    """A measure ("tiltak")."""

    model_config = _OUT

    id: str
    goalId: str | None
    title: str
    arena: Arena
    responsibleParticipantId: str | None
    responsibleAffiliationId: str | None
    startDate: date
    endDate: date | None
    status: MeasureStatus
    evaluation: str | None
    externalReference: str


class ResponsibilityOut(BaseModel):
    """A responsibility ("ansvar")."""

    model_config = _OUT

    id: str
    participantId: str
    task: str
    dueDate: date | None
    status: ResponsibilityStatus
    externalReference: str


class CalendarOut(BaseModel):
    """A calendar entry (meeting)."""

    model_config = _OUT

    id: str
    title: str
    kind: MeetingKind
    start: AwareDatetime
    end: AwareDatetime
    location: str | None
    participantIds: list[str]
    status: CalendarStatus
    externalReference: str


class LogOut(BaseModel):
    """A log line."""

    model_config = _OUT

    id: str
    text: str
    authorName: str
    occurredAt: AwareDatetime
    externalReference: str


class PlanOut(BaseModel):
    """The whole plan, as `GET /plans/{id}` returns it."""

    model_config = _OUT

    planId: str
    planTypeId: str
    status: PlanStatus
    closedReason: CloseReason | None
    transferredToPlanId: str | None
    transferredFromPlanId: str | None
    organizationNumber: str
    affiliationId: str | None
    externalReference: str
    mainPerson: PersonOut
    planLead: PersonOut
    participants: list[ParticipantOut]
    consents: list[ConsentOut]
    goals: list[GoalOut]
    measures: list[MeasureOut]
    responsibilities: list[ResponsibilityOut]
    calendar: list[CalendarOut]
    log: list[LogOut]


class PlanList(BaseModel):
    """A page of plans."""

    model_config = _OUT

    items: list[PlanOut]
    total: int


class PlanCreated(BaseModel):
    """`POST /plans` answer."""

    model_config = _OUT

    planId: str
    status: PlanStatus
    planTypeId: str


class Created(BaseModel):
    """A created plan item."""

    model_config = _OUT

    id: str


class Transferred(BaseModel):
    """`POST /plans/{id}/transfer` answer."""

    model_config = _OUT

    planId: str
    sourcePlanId: str
