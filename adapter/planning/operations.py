"""Operations: the planner's output and the outbox's rows — one remote effect each.

An operation says *what* must exist remotely, never how to reach it: ids of remote items
are not known when planning, so a payload (`adapter/planning/payloads.py`) names them by
links-table keys (``goal:G1``) that the dispatcher resolves at run time.

`op_ref` is stable and built from internal ids only:
``stafett:{tenant}:{case_id}:{kind}:{internal_id}`` (creates; also sent as the remote
`externalReference`, or as the archive document's remark) plus ``#{suffix}`` for repeated
effects on one item (updates, status changes), where the suffix comes from the stored
event that caused it (its sequence), so replaying the same events yields the same refs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OpKind",
    "Operation",
    "Target",
    "item_ref",
    "link_key",
    "op_ref",
]


class Target(StrEnum):
    """The remote system an operation goes to; order is kept per case and target."""

    SAMSPILL = "samspill"
    P360 = "p360"


class OpKind(StrEnum):
    """Every kind of remote effect stafett produces."""

    # Flyt Samspill
    CREATE_PLAN = "create-plan"
    ADD_CONSENT = "add-consent"
    UPDATE_CONSENT = "update-consent"
    ADD_PARTICIPANT = "add-participant"
    REMOVE_PARTICIPANT = "remove-participant"
    CREATE_GOAL = "create-goal"
    UPDATE_GOAL = "update-goal"
    CREATE_MEASURE = "create-measure"
    UPDATE_MEASURE = "update-measure"
    CREATE_RESPONSIBILITY = "create-responsibility"
    UPDATE_RESPONSIBILITY = "update-responsibility"
    CREATE_CALENDAR = "create-calendar"
    UPDATE_CALENDAR = "update-calendar"
    APPEND_LOG = "append-log"
    CHANGE_LEAD = "change-lead"
    CLOSE_PLAN = "close-plan"
    TRANSFER_PLAN = "transfer-plan"
    # Public 360
    SYNC_PERSON = "sync-person"
    ENSURE_CASE = "ensure-case"
    CREATE_DOCUMENT = "create-document"
    CLOSE_CASE = "close-case"


def link_key(kind: str, internal_id: str) -> str:
    """The links-table key of an internal item, e.g. ``link_key("goal", "G1") == "goal:G1"``."""
    return f"{kind}:{internal_id}"


def item_ref(tenant: str, case_id: str, kind: str, internal_id: str) -> str:
    """The stable external reference of a remote item (`externalReference`)."""
    return f"stafett:{tenant}:{case_id}:{kind}:{internal_id}"


def op_ref(
    tenant: str, case_id: str, kind: str, internal_id: str, suffix: str | int | None = None
) -> str:
    """The outbox key of one effect: the item reference, plus ``#suffix`` for repeated effects."""
    base = item_ref(tenant, case_id, kind, internal_id)
    return base if suffix is None else f"{base}#{suffix}"


class Operation(BaseModel):
    """One remote effect the planner asks for.

    - `op_ref`: unique and deterministic (see the module docstring).
    - `link`: the links-table key under which the created remote id is recorded (creates
      only), e.g. ``goal:G1``; `None` for updates and deletes.
    - `payload`: the semantic payload (`payloads.PAYLOADS[kind]`) as a JSON-able dict.
    - `waits_for`: the `op_ref` of an operation (usually of the other target) that must be
      done before this one may run.
    - `cause_sequence`: the sequence of the event that produced it (for operators).
    """

    model_config = ConfigDict(frozen=True)

    op_ref: str = Field(max_length=255)
    tenant: str
    case_id: str
    target: Target
    kind: OpKind
    link: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    waits_for: str | None = None
    cause_sequence: int | None = None
