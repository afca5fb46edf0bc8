"""Frozen values going into and coming out of the store."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from adapter.planning.operations import Operation
from adapter.store.states import EventSource, EventState, OperationState, Target

__all__ = [
    "AuditEntry",
    "CaseKey",
    "CaseRecord",
    "Completion",
    "CursorRecord",
    "EventStateChange",
    "InboundEvent",
    "ParkedOperation",
    "PlanCommit",
    "RejectedRecord",
    "StoredEvent",
    "StoredOperation",
]

_FROZEN = ConfigDict(frozen=True)
_FIELD_MAX = 255


class InboundEvent(BaseModel):
    """A validated event from a door, ready to be stored. `payload` is the raw text received."""

    model_config = _FROZEN

    event_id: str = Field(max_length=64)
    tenant: str = Field(max_length=64)
    case_id: str = Field(max_length=64)
    sequence: int = Field(ge=1)
    type: str = Field(max_length=64)
    occurred_at: AwareDatetime
    payload: str
    content_hash: str = Field(max_length=128)
    source: EventSource
    source_ref: str | None = None
    line: int | None = None


class RejectedRecord(BaseModel):
    """Input that was refused, kept with the reason so that nothing vanishes without a trace.

    Every identifying field is optional: a line that is not even JSON has none of them.
    `reason` must not contain a name or a nin. Text is made storable on the way in (a NUL
    or a lone surrogate, which neither database takes, is escaped; `field` is cut to its
    column), so keeping a refusal can never fail because of what was refused.
    """

    model_config = _FROZEN

    reason: str
    payload: str
    source: EventSource
    source_ref: str | None = None
    line: int | None = None
    event_id: str | None = Field(default=None, max_length=64)
    tenant: str | None = Field(default=None, max_length=64)
    case_id: str | None = Field(default=None, max_length=64)
    sequence: int | None = None
    type: str | None = Field(default=None, max_length=64)
    field: str | None = Field(default=None, max_length=_FIELD_MAX)

    @field_validator("reason", "payload", "source_ref", "field", mode="before")
    @classmethod
    def _storable(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        text = value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
        return text[:_FIELD_MAX] if info.field_name == "field" else text


class StoredEvent(BaseModel):
    """One row of the `events` table."""

    model_config = _FROZEN

    id: int
    event_id: str | None
    tenant: str | None
    case_id: str | None
    sequence: int | None
    type: str | None
    occurred_at: datetime | None
    payload: str
    content_hash: str | None
    state: EventState
    reason: str | None
    field: str | None
    source: EventSource
    source_ref: str | None
    line: int | None
    received_at: datetime
    planned_at: datetime | None


class StoredOperation(BaseModel):
    """One row of the outbox (`operations`). `seq` (= `id`) is the global order."""

    model_config = _FROZEN

    id: int
    op_ref: str
    tenant: str
    case_id: str
    target: Target
    kind: str
    link: str | None
    payload: str
    waits_for: str | None
    cause_sequence: int | None
    state: OperationState
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str | None
    leased_until: datetime | None
    may_exist: bool
    last_error: str | None
    last_status: int | None
    remote_id: str | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None

    @property
    def seq(self) -> int:
        """The global order of operations (the row id)."""
        return self.id


class ParkedOperation(BaseModel):
    """A parked operation as operators see it (`stafett parked list`)."""

    model_config = _FROZEN

    tenant: str
    case_id: str
    op_id: int
    op_ref: str
    target: Target
    kind: str
    reason: str | None
    since: datetime


class CaseKey(BaseModel):
    """A case, named by tenant and the internal case id."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    case_id: str

    def __str__(self) -> str:
        return f"{self.tenant}/{self.case_id}"


class CaseRecord(BaseModel):
    """One row of `cases`: the planner's state (JSON text) with its optimistic-lock version."""

    model_config = _FROZEN

    tenant: str
    case_id: str
    state: str
    last_sequence_planned: int
    closed_at: datetime | None
    purged_at: datetime | None
    updated_at: datetime
    version: int


class CursorRecord(BaseModel):
    """A feed cursor and when it last moved."""

    model_config = _FROZEN

    tenant: str
    name: str
    value: str
    updated_at: datetime


class AuditEntry(BaseModel):
    """One row of `audit`. `details` is a JSON object; never put a nin or name in it."""

    model_config = _FROZEN

    id: int
    at: datetime
    actor: str
    action: str
    tenant: str | None
    case_id: str | None
    subject: str | None
    reason: str | None
    details: dict[str, Any]


class EventStateChange(BaseModel):
    """A new state for a stored event (by row id), with the reason for held/rejected."""

    model_config = _FROZEN

    id: int
    state: EventState
    reason: str | None = None


class PlanCommit(BaseModel):
    """One planning step of one case, committed atomically by `Store.commit_plan`.

    `expected_version` is the version read with `load_case` (`None`: the case is new).
    """

    model_config = _FROZEN

    tenant: str
    case_id: str
    expected_version: int | None
    state: str
    last_sequence_planned: int
    closed_at: AwareDatetime | None = None
    events: tuple[EventStateChange, ...] = ()
    operations: tuple[Operation, ...] = ()


@dataclasses.dataclass(frozen=True)
class Completion:
    """One successful operation to record: its remote id, status and links learnt."""

    op_id: int
    remote_id: str | None = None
    status: int | None = None
    extra_links: Mapping[str, str] = dataclasses.field(default_factory=dict)
