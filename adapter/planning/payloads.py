"""The semantic payload of each operation kind: what the planner asks, not the wire format.

Remote paths and field names live only in the target clients (`adapter/targets/`), so the
day Visma publishes the real Samspill API only those modules and the mock change. Fields
named `*_link` are links-table keys (``plan:stafettlogg``, ``goal:G1``, …) that the
dispatcher resolves to remote ids when it runs the operation; the special key ``lead``
means "the plan lead" (the stafettholder or coordinator), which is not a participant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from adapter.planning.operations import OpKind

__all__ = [
    "PAYLOADS",
    "AddConsent",
    "AddParticipant",
    "AppendLog",
    "ChangeLead",
    "CloseArchiveCase",
    "ClosePlan",
    "CreateCalendar",
    "CreateDocument",
    "CreateGoal",
    "CreateMeasure",
    "CreatePlan",
    "CreateResponsibility",
    "DocumentSource",
    "EnsureArchiveCase",
    "FamilyMember",
    "GivenBy",
    "Payload",
    "PersonRef",
    "RemoveParticipant",
    "SummaryLine",
    "SummaryMeetingLine",
    "SummaryParticipantLine",
    "SummarySnapshot",
    "SyncPerson",
    "TransferPlan",
    "UpdateCalendar",
    "UpdateConsent",
    "UpdateGoal",
    "UpdateMeasure",
    "UpdateResponsibility",
]


class Payload(BaseModel):
    """Base of every payload: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonRef(Payload):
    """A person as a remote system needs them: name and national identity number."""

    name: str
    nin: str | None = None


class FamilyMember(PersonRef):
    """A guardian (`foresatt`) or the child (`barn`) as a family participant; `link` keys it."""

    role: Literal["foresatt", "barn"]
    link: str


class GivenBy(PersonRef):
    """Who gave a consent, and their relation to the child."""

    relation: str


class _OnPlan(Payload):
    plan_link: str


class CreatePlan(Payload):
    """A new stafettlogg: the child as main person, the lead, the family participants."""

    plan_type: Literal["stafettlogg"] = "stafettlogg"
    organization_number: str
    main_person: PersonRef
    lead: PersonRef
    family: tuple[FamilyMember, ...] = ()
    affiliation: str
    external_reference: str


class AddConsent(_OnPlan):
    given_by: tuple[GivenBy, ...]
    services: tuple[str, ...]
    valid_from: date
    valid_to: date | None = None
    document_reference: str | None = None
    external_reference: str


class UpdateConsent(_OnPlan):
    consent_link: str
    status: Literal["withdrawn", "expired"]


class AddParticipant(_OnPlan):
    name: str
    nin: str | None = None
    role: str
    service: str | None = None
    access_areas: tuple[str, ...] = ()
    external_reference: str


class RemoveParticipant(_OnPlan):
    participant_link: str


class CreateGoal(_OnPlan):
    title: str
    description: str | None = None
    target_date: date | None = None
    status: Literal["active", "achieved", "discontinued"] = "active"
    evaluation: str | None = None
    external_reference: str


class UpdateGoal(_OnPlan):
    goal_link: str
    title: str | None = None
    description: str | None = None
    target_date: date | None = None
    status: Literal["active", "achieved", "discontinued"] | None = None
    evaluation: str | None = None


class CreateMeasure(_OnPlan):
    goal_link: str | None = None
    title: str
    arena: str
    responsible_participant_link: str | None = None
    responsible_service: str | None = None
    start_date: date
    end_date: date | None = None
    status: Literal["planned", "active", "ended"]
    evaluation: str | None = None
    external_reference: str


class UpdateMeasure(_OnPlan):
    measure_link: str
    goal_link: str | None = None
    title: str | None = None
    arena: str | None = None
    responsible_participant_link: str | None = None
    responsible_service: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: Literal["planned", "active", "ended"] | None = None
    evaluation: str | None = None


class CreateResponsibility(_OnPlan):
    participant_link: str
    task: str
    due_date: date | None = None
    status: Literal["open", "done"] = "open"
    external_reference: str


class UpdateResponsibility(_OnPlan):
    responsibility_link: str
    task: str | None = None
    due_date: date | None = None
    status: Literal["open", "done"] | None = None


class CreateCalendar(_OnPlan):
    title: str
    kind: str
    start: datetime
    end: datetime
    location: str | None = None
    participant_links: tuple[str, ...] = ()
    status: Literal["planned", "held", "cancelled"] = "planned"
    external_reference: str


class UpdateCalendar(_OnPlan):
    entry_link: str
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None
    participant_links: tuple[str, ...] | None = None
    status: Literal["planned", "held", "cancelled"] | None = None


class AppendLog(_OnPlan):
    text: str
    author_name: str
    occurred_at: datetime
    external_reference: str


class ChangeLead(_OnPlan):
    lead: PersonRef


class ClosePlan(_OnPlan):
    reason: Literal["goals-achieved", "guardian-request", "transferred-to-ip", "other"]


class TransferPlan(_OnPlan):
    """Transfer the stafettlogg (`plan_link`) to an individual plan led by `coordinator`.

    `adopt` maps the IP's links-table keys to the external references of the items the
    transfer copies, so the dispatcher can link them after the transfer. `family` names
    the guardians the transfer copies too (keyed by their IP link); they share the plan's
    reference, so they are matched by nin (else name and role) as at plan creation.
    """

    coordinator: PersonRef
    external_reference: str
    adopt: dict[str, str] = {}
    family: tuple[FamilyMember, ...] = ()


class SyncPerson(Payload):
    """Synchronise the child as a private person in the archive (no address, ever)."""

    nin: str
    first_name: str
    last_name: str


class EnsureArchiveCase(Payload):
    """Find the case's archive case by external id, or create it (screened)."""

    external_id: str
    external_system: str
    title: str
    unofficial_title: str
    child_nin: str


class DocumentSource(Payload):
    """Where the document's bytes come from, and what they must be."""

    document_ref: str | None = None
    content_base64: str | None = None
    filename: str
    media_type: str
    sha256: str | None = None


class SummaryLine(Payload):
    """A goal or measure in a closing summary: title, final status, evaluation."""

    title: str
    status: str
    evaluation: str | None = None


class SummaryMeetingLine(Payload):
    """A meeting held, in a closing summary: its kind and date (Oslo)."""

    kind: str
    date: date


class SummaryParticipantLine(Payload):
    """A participant in a closing summary: role and service, never a name."""

    role: str
    service: str | None = None


class SummarySnapshot(Payload):
    """What the stafettlogg held when it was closed or transferred, for its closing summary.

    Taken by the planner at that event, so the archived summary is the same whenever the
    operation runs (or a resync re-creates it) and never shows what came after.
    """

    goals: tuple[SummaryLine, ...] = ()
    measures: tuple[SummaryLine, ...] = ()
    meetings_held: tuple[SummaryMeetingLine, ...] = ()
    participants: tuple[SummaryParticipantLine, ...] = ()
    transferred_at: datetime | None = None


class CreateDocument(Payload):
    """An archive document in the case's archive case, carrying its op_ref as a remark.

    `contact_nin` names the child as the document's unofficial contact (screened);
    `summary` is the snapshot a `closing-summary` document is rendered from.
    """

    case_link: str
    title: str
    unofficial_title: str
    category: str
    document_date: datetime
    source: DocumentSource
    render: Literal["none", "closing-summary"] = "none"
    contact_nin: str | None = None
    summary: SummarySnapshot | None = None


class CloseArchiveCase(Payload):
    case_link: str


PAYLOADS: dict[OpKind, type[Payload]] = {
    OpKind.CREATE_PLAN: CreatePlan,
    OpKind.ADD_CONSENT: AddConsent,
    OpKind.UPDATE_CONSENT: UpdateConsent,
    OpKind.ADD_PARTICIPANT: AddParticipant,
    OpKind.REMOVE_PARTICIPANT: RemoveParticipant,
    OpKind.CREATE_GOAL: CreateGoal,
    OpKind.UPDATE_GOAL: UpdateGoal,
    OpKind.CREATE_MEASURE: CreateMeasure,
    OpKind.UPDATE_MEASURE: UpdateMeasure,
    OpKind.CREATE_RESPONSIBILITY: CreateResponsibility,
    OpKind.UPDATE_RESPONSIBILITY: UpdateResponsibility,
    OpKind.CREATE_CALENDAR: CreateCalendar,
    OpKind.UPDATE_CALENDAR: UpdateCalendar,
    OpKind.APPEND_LOG: AppendLog,
    OpKind.CHANGE_LEAD: ChangeLead,
    OpKind.CLOSE_PLAN: ClosePlan,
    OpKind.TRANSFER_PLAN: TransferPlan,
    OpKind.SYNC_PERSON: SyncPerson,
    OpKind.ENSURE_CASE: EnsureArchiveCase,
    OpKind.CREATE_DOCUMENT: CreateDocument,
    OpKind.CLOSE_CASE: CloseArchiveCase,
}
