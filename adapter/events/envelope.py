"""The event envelope (events.md "Envelope") and the validated `Event`."""

from __future__ import annotations

from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from adapter.events.data import DATA_MODELS, EventData
from adapter.events.enums import EventType
from adapter.events.fields import MODEL_CONFIG, ItemId
from adapter.events.people import Actor

__all__ = ["SCHEMA_VERSION", "Event", "RawEnvelope"]

SCHEMA_VERSION = 1
"""The only schema version this adapter understands; others are rejected, never guessed."""

SequenceNumber = Annotated[int, Field(ge=1, le=2**63 - 1)]


class _EnvelopeFields(BaseModel):
    model_config = MODEL_CONFIG

    event_id: UUID
    schema_version: int
    tenant: ItemId
    case_id: ItemId
    sequence: SequenceNumber
    occurred_at: AwareDatetime

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema version; only {SCHEMA_VERSION} is accepted")
        return value


class RawEnvelope(_EnvelopeFields):
    """The first parsing step: the envelope checked, `type` and `data` not yet interpreted."""

    type: str
    actor: Actor
    data: dict[str, Any]


class Event(_EnvelopeFields):
    """A valid event: the envelope plus the data model its `type` names."""

    type: EventType
    actor: Actor
    data: EventData

    @field_validator("data", mode="before")
    @classmethod
    def _data_model_of_type(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if isinstance(value, dict) and isinstance(kind, EventType):
            return DATA_MODELS[kind].model_validate(value, context=info.context)
        return value

    @model_validator(mode="after")
    def _data_matches_type(self) -> Self:
        if type(self.data) is not DATA_MODELS[self.type]:
            raise ValueError(f"data does not fit type {self.type.value}")
        return self
