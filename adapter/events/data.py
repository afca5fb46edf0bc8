"""One data model per event type (events.md "Types"), and the registry that picks it.

Dates are `date`; date-times must carry a UTC offset. A `null` in an update event means
"unchanged" (the contract has no way to clear a field).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Annotated, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from adapter.events.enums import (
    Arena,
    CloseReason,
    EventType,
    GoalOutcome,
    MeetingKind,
    Outcome,
    RoleKey,
    ServiceKey,
)
from adapter.events.fields import (
    MEDIA_TYPE_PATTERN,
    MODEL_CONFIG,
    FieldProblem,
    HttpUrl,
    ItemId,
    Nin,
    Sha256,
    Text,
)
from adapter.events.people import (
    ConsentGiver,
    Guardian,
    IdentifiedPerson,
    IdentifiedServicePerson,
    refuse_reserved_id,
)

__all__ = [
    "DATA_MODELS",
    "CaseClosedData",
    "CaseOpenedData",
    "ConsentExpiredData",
    "ConsentGrantedData",
    "ConsentWithdrawnData",
    "DecisionRecordedData",
    "EventData",
    "GoalClosedData",
    "GoalSetData",
    "GoalUpdatedData",
    "IpGrantedData",
    "LogNotedData",
    "MeasureAgreedData",
    "MeasureEndedData",
    "MeasureUpdatedData",
    "MeetingCancelledData",
    "MeetingHeldData",
    "MeetingRescheduledData",
    "MeetingScheduledData",
    "Minutes",
    "ParticipantAddedData",
    "ParticipantRemovedData",
    "ResponsibilityAssignedData",
    "ResponsibilityCompletedData",
    "StafettholderChangedData",
    "StepEnteredData",
]

Level = Annotated[int, Field(ge=0, le=3)]
Step = Annotated[int, Field(ge=1)]
MediaType = Annotated[str, StringConstraints(pattern=MEDIA_TYPE_PATTERN)]


def _require_unique(values: Sequence[str]) -> None:
    if len(set(values)) != len(values):
        raise ValueError("must not list the same value twice")


def _not_before(later: date | None, earlier: date | None, *, field: str, other: str) -> None:
    if later is not None and earlier is not None and later < earlier:
        raise FieldProblem(f"must not be before {other}", field=field)


class _Data(BaseModel):
    model_config = MODEL_CONFIG


class CaseOpenedData(_Data):
    """`case.opened`: the first event of a case."""

    child: IdentifiedPerson
    guardians: list[Guardian]
    service: ServiceKey
    level: Level
    step: Step
    stafettholder: IdentifiedServicePerson


class StepEnteredData(_Data):
    """`step.entered`: the case moved to a step of the tenant's profile."""

    level: Level
    step: Step


class ConsentGrantedData(_Data):
    """`consent.granted`: consent to share with the named services."""

    consent_id: ItemId
    given_by: Annotated[list[ConsentGiver], Field(min_length=1)]
    services: Annotated[list[ServiceKey], Field(min_length=1)]
    valid_from: date
    valid_to: date | None = None
    document_ref: HttpUrl | None = None

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: list[ServiceKey]) -> list[ServiceKey]:
        _require_unique(value)
        return value

    @model_validator(mode="after")
    def _period(self) -> Self:
        _not_before(self.valid_to, self.valid_from, field="valid_to", other="valid_from")
        return self


class ConsentWithdrawnData(_Data):
    """`consent.withdrawn`: stops sharing with services only this consent covered."""

    consent_id: ItemId
    reason: Text | None = None


class ConsentExpiredData(_Data):
    """`consent.expired` (internal): wall-clock time passed the consent's `valid_to`."""

    consent_id: ItemId


class ParticipantAddedData(_Data):
    """`participant.added`: a service employee joins the case (flat person)."""

    participant_id: ItemId
    name: Text
    nin: Nin | None = None
    role: RoleKey
    service: ServiceKey

    @field_validator("participant_id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        refuse_reserved_id(value)
        return value


class ParticipantRemovedData(_Data):
    """`participant.removed`."""

    participant_id: ItemId


class StafettholderChangedData(_Data):
    """`stafettholder.changed`: recorded without `accepted_at`; the baton moves with it."""

    name: Text
    nin: Nin
    service: ServiceKey
    accepted_at: AwareDatetime | None = None


class GoalSetData(_Data):
    """`goal.set`."""

    goal_id: ItemId
    title: Text
    description: Text | None = None
    target_date: date | None = None


class GoalUpdatedData(_Data):
    """`goal.updated`: at least one of the fields changes."""

    goal_id: ItemId
    title: Text | None = None
    description: Text | None = None
    target_date: date | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.title is None and self.description is None and self.target_date is None:
            raise ValueError("needs at least one of title, description, target_date")
        return self


class GoalClosedData(_Data):
    """`goal.closed`."""

    goal_id: ItemId
    outcome: GoalOutcome
    evaluation: Text | None = None


class MeasureAgreedData(_Data):
    """`measure.agreed` ("tiltak"): exactly one responsible participant or service."""

    measure_id: ItemId
    goal_id: ItemId | None = None
    title: Text
    arena: Arena
    responsible_participant_id: ItemId | None = None
    responsible_service: ServiceKey | None = None
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _one_responsible_and_period(self) -> Self:
        if (self.responsible_participant_id is None) == (self.responsible_service is None):
            raise FieldProblem(
                "give exactly one of responsible_participant_id and responsible_service",
                field="responsible_participant_id",
            )
        _not_before(self.end_date, self.start_date, field="end_date", other="start_date")
        return self


class MeasureUpdatedData(_Data):
    """`measure.updated`: at least one of the fields changes."""

    measure_id: ItemId
    goal_id: ItemId | None = None
    title: Text | None = None
    arena: Arena | None = None
    responsible_participant_id: ItemId | None = None
    responsible_service: ServiceKey | None = None
    start_date: date | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        changed = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if changed == ["measure_id"]:
            raise ValueError("needs at least one changed field besides measure_id")
        if self.responsible_participant_id is not None and self.responsible_service is not None:
            raise FieldProblem(
                "give at most one of responsible_participant_id and responsible_service",
                field="responsible_participant_id",
            )
        _not_before(self.end_date, self.start_date, field="end_date", other="start_date")
        return self


class MeasureEndedData(_Data):
    """`measure.ended`."""

    measure_id: ItemId
    evaluation: Text


class ResponsibilityAssignedData(_Data):
    """`responsibility.assigned` ("ansvar")."""

    responsibility_id: ItemId
    participant_id: ItemId
    task: Text
    due_date: date | None = None


class ResponsibilityCompletedData(_Data):
    """`responsibility.completed`."""

    responsibility_id: ItemId


class MeetingScheduledData(_Data):
    """`meeting.scheduled`: a calendar entry."""

    meeting_id: ItemId
    kind: MeetingKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: Text | None = None
    participant_ids: list[ItemId]

    @field_validator("participant_ids")
    @classmethod
    def _unique_participants(cls, value: list[str]) -> list[str]:
        _require_unique(value)
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise FieldProblem("must be after starts_at", field="ends_at")
        return self


class MeetingRescheduledData(_Data):
    """`meeting.rescheduled`."""

    meeting_id: ItemId
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise FieldProblem("must be after starts_at", field="ends_at")
        return self


class MeetingCancelledData(_Data):
    """`meeting.cancelled`."""

    meeting_id: ItemId
    reason: Text | None = None


class Minutes(_Data):
    """The minutes of a held meeting: a document reference or the content itself."""

    document_ref: HttpUrl | None = None
    content_base64: str | None = None
    filename: Text
    media_type: MediaType
    sha256: Sha256
    title: Text

    @field_validator("filename")
    @classmethod
    def _plain_filename(cls, value: str) -> str:
        if "/" in value or "\\" in value:
            raise ValueError("must be a file name, not a path")
        return value

    @field_validator("content_base64")
    @classmethod
    def _valid_base64(cls, value: str | None) -> str | None:
        if value is not None and not _decode(value):
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        # The content itself (its sha256, size, media type, that it is a PDF) is checked
        # when it is archived, the same way for inline and referenced minutes: a failed
        # check parks that one operation instead of refusing the event (which would hold
        # the whole case behind a sequence gap).
        if (self.document_ref is None) == (self.content_base64 is None):
            raise FieldProblem(
                "give exactly one of document_ref and content_base64", field="document_ref"
            )
        return self

    def content(self) -> bytes | None:
        """The decoded content when it came inline, else None (fetch `document_ref`)."""
        return None if self.content_base64 is None else _decode(self.content_base64)


def _decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("must be valid base64") from None


class MeetingHeldData(_Data):
    """`meeting.held`: the minutes go to the archive."""

    meeting_id: ItemId
    minutes: Minutes


class DecisionRecordedData(_Data):
    """`decision.recorded`: a BTI decision, usually at a meeting."""

    meeting_id: ItemId | None = None
    outcome: Outcome
    next_meeting_due: date | None = None
    note: Text | None = None


class LogNotedData(_Data):
    """`log.noted`: a line in the stafettlogg's log."""

    note_id: ItemId
    text: Text


class IpGrantedData(_Data):
    """`ip.granted`: transfer the stafettlogg to an individual plan led by the coordinator."""

    coordinator: IdentifiedServicePerson
    decided_at: AwareDatetime


class CaseClosedData(_Data):
    """`case.closed`."""

    reason: CloseReason


EventData = (
    CaseOpenedData
    | StepEnteredData
    | ConsentGrantedData
    | ConsentWithdrawnData
    | ConsentExpiredData
    | ParticipantAddedData
    | ParticipantRemovedData
    | StafettholderChangedData
    | GoalSetData
    | GoalUpdatedData
    | GoalClosedData
    | MeasureAgreedData
    | MeasureUpdatedData
    | MeasureEndedData
    | ResponsibilityAssignedData
    | ResponsibilityCompletedData
    | MeetingScheduledData
    | MeetingRescheduledData
    | MeetingCancelledData
    | MeetingHeldData
    | DecisionRecordedData
    | LogNotedData
    | IpGrantedData
    | CaseClosedData
)
"""The data of any event; `Event.type` says which."""

DATA_MODELS: Mapping[EventType, type[EventData]] = MappingProxyType(
    {
        EventType.CASE_OPENED: CaseOpenedData,
        EventType.STEP_ENTERED: StepEnteredData,
        EventType.CONSENT_GRANTED: ConsentGrantedData,
        EventType.CONSENT_WITHDRAWN: ConsentWithdrawnData,
        EventType.CONSENT_EXPIRED: ConsentExpiredData,
        EventType.PARTICIPANT_ADDED: ParticipantAddedData,
        EventType.PARTICIPANT_REMOVED: ParticipantRemovedData,
        EventType.STAFETTHOLDER_CHANGED: StafettholderChangedData,
        EventType.GOAL_SET: GoalSetData,
        EventType.GOAL_UPDATED: GoalUpdatedData,
        EventType.GOAL_CLOSED: GoalClosedData,
        EventType.MEASURE_AGREED: MeasureAgreedData,
        EventType.MEASURE_UPDATED: MeasureUpdatedData,
        EventType.MEASURE_ENDED: MeasureEndedData,
        EventType.RESPONSIBILITY_ASSIGNED: ResponsibilityAssignedData,
        EventType.RESPONSIBILITY_COMPLETED: ResponsibilityCompletedData,
        EventType.MEETING_SCHEDULED: MeetingScheduledData,
        EventType.MEETING_RESCHEDULED: MeetingRescheduledData,
        EventType.MEETING_CANCELLED: MeetingCancelledData,
        EventType.MEETING_HELD: MeetingHeldData,
        EventType.DECISION_RECORDED: DecisionRecordedData,
        EventType.LOG_NOTED: LogNotedData,
        EventType.IP_GRANTED: IpGrantedData,
        EventType.CASE_CLOSED: CaseClosedData,
    }
)
"""The data model of each event type: the second step of parsing."""
