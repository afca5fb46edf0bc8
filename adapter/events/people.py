"""The person shapes of the event contract; all flat objects (events.md "Shapes are flat")."""

from __future__ import annotations

from pydantic import BaseModel, field_validator

from adapter.events.enums import Relation, ServiceKey
from adapter.events.fields import MODEL_CONFIG, ItemId, Nin, Text

__all__ = [
    "RESERVED_PARTICIPANT_ID",
    "Actor",
    "ConsentGiver",
    "Guardian",
    "IdentifiedPerson",
    "IdentifiedServicePerson",
    "Person",
    "ServicePerson",
    "refuse_reserved_id",
]

RESERVED_PARTICIPANT_ID = "stafettholder"
"""The id that `participant_ids` use for whoever holds the baton; no one else may take it."""


def refuse_reserved_id(value: str | None) -> str | None:
    """Refuse the reserved participant id for a participant or guardian."""
    if value == RESERVED_PARTICIPANT_ID:
        raise ValueError(f"'{RESERVED_PARTICIPANT_ID}' is a reserved id")
    return value


class Person(BaseModel):
    """A person whose nin is optional."""

    model_config = MODEL_CONFIG

    name: Text
    nin: Nin | None = None


class IdentifiedPerson(BaseModel):
    """A person whose nin is required (the child)."""

    model_config = MODEL_CONFIG

    name: Text
    nin: Nin


class ServicePerson(BaseModel):
    """A person working in a service; nin optional."""

    model_config = MODEL_CONFIG

    name: Text
    nin: Nin | None = None
    service: ServiceKey


class IdentifiedServicePerson(BaseModel):
    """A person working in a service whose nin is required (stafettholder, coordinator)."""

    model_config = MODEL_CONFIG

    name: Text
    nin: Nin
    service: ServiceKey


class Guardian(BaseModel):
    """A guardian of the child; may carry a `guardian_id` that meetings can name."""

    model_config = MODEL_CONFIG

    name: Text
    nin: Nin
    relation: Relation
    guardian_id: ItemId | None = None

    @field_validator("guardian_id")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        return refuse_reserved_id(value)


class ConsentGiver(BaseModel):
    """Someone who gives consent: a guardian, or the child itself (`barnet`)."""

    model_config = MODEL_CONFIG

    name: Text
    nin: Nin
    relation: Relation


class Actor(BaseModel):
    """Who did what the event records (the employee in the internal system)."""

    model_config = MODEL_CONFIG

    name: Text
    service: ServiceKey
    employee_id: Text | None = None
