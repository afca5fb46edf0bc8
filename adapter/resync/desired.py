"""The desired remote state of a case: its stored events replayed from an empty state.

`desired_plan` replays the events the live planner has already decided (planned or held;
new, accepted ones are the live planner's next work, not drift) with
`adapter.planning.replay`: op_refs are deterministic, so they name the rows the outbox
already holds, and the replayed state is what the live planner should hold now.
`group_items` folds the operations per remote item (by links-table key): the operation
that creates it, those that change it afterwards, and `merged` gives the item's create
payload with every later change applied — what the item should hold now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adapter.events import RulesLookup
from adapter.jobs.plan_step import load_events
from adapter.planning import CaseState, Operation, OpKind, PlanningRules, Target, replay
from adapter.planning.payloads import PAYLOADS, Payload, PersonRef
from adapter.store.records import CaseKey
from adapter.store.states import EventState
from adapter.store.store import Store

__all__ = [
    "CREATE_KINDS",
    "UPDATE_OF",
    "Desired",
    "DesiredItem",
    "changed_item",
    "desired_plan",
    "group_items",
    "item_kind",
]

_DECIDED = (EventState.PLANNED, EventState.HELD)

UPDATE_OF: dict[OpKind, OpKind] = {
    OpKind.CREATE_GOAL: OpKind.UPDATE_GOAL,
    OpKind.CREATE_MEASURE: OpKind.UPDATE_MEASURE,
    OpKind.CREATE_RESPONSIBILITY: OpKind.UPDATE_RESPONSIBILITY,
    OpKind.CREATE_CALENDAR: OpKind.UPDATE_CALENDAR,
}
"""Mutable item kinds: the create and the update that corrects it."""

_ITEM_FIELD: dict[OpKind, str] = {
    OpKind.UPDATE_GOAL: "goal_link",
    OpKind.UPDATE_MEASURE: "measure_link",
    OpKind.UPDATE_RESPONSIBILITY: "responsibility_link",
    OpKind.UPDATE_CALENDAR: "entry_link",
    OpKind.UPDATE_CONSENT: "consent_link",
    OpKind.REMOVE_PARTICIPANT: "participant_link",
    OpKind.CHANGE_LEAD: "plan_link",
    OpKind.CLOSE_PLAN: "plan_link",
    OpKind.TRANSFER_PLAN: "plan_link",
    OpKind.CLOSE_CASE: "case_link",
}
"""Operations that change an existing item: the payload field naming that item."""

CREATE_KINDS = frozenset(
    {
        OpKind.CREATE_PLAN,
        OpKind.TRANSFER_PLAN,
        OpKind.ADD_CONSENT,
        OpKind.ADD_PARTICIPANT,
        OpKind.CREATE_GOAL,
        OpKind.CREATE_MEASURE,
        OpKind.CREATE_RESPONSIBILITY,
        OpKind.CREATE_CALENDAR,
        OpKind.APPEND_LOG,
        OpKind.SYNC_PERSON,
        OpKind.ENSURE_CASE,
        OpKind.CREATE_DOCUMENT,
    }
)
"""Operations that create a remote item (they carry a `link`)."""


def item_kind(link: str) -> str:
    """The kind of item a links key names: ``ip/goal:G1`` → ``goal``."""
    return link.removeprefix("ip/").split(":", 1)[0]


def changed_item(op: Operation) -> str | None:
    """The links key of the item an operation changes (None for creates)."""
    own = _ITEM_FIELD.get(op.kind)
    changed = None if own is None else op.payload.get(own)
    return changed if isinstance(changed, str) else None


@dataclass
class DesiredItem:
    """One remote item as the replayed operations describe it."""

    link: str
    target: Target
    create: Operation | None = None
    changes: list[Operation] = field(default_factory=list)

    @property
    def ops(self) -> list[Operation]:
        """Every operation touching the item, create first."""
        return ([self.create] if self.create is not None else []) + self.changes

    def changes_of(self, *kinds: OpKind) -> list[Operation]:
        """The changes of the given kinds, in order."""
        return [op for op in self.changes if op.kind in kinds]

    def merged(self) -> Payload | None:
        """The create payload with every later update of the item applied (mutable kinds)."""
        if self.create is None or self.create.kind not in UPDATE_OF:
            return None
        update_kind = UPDATE_OF[self.create.kind]
        values: dict[str, Any] = dict(self.create.payload)
        own = _ITEM_FIELD[update_kind]
        for op in self.changes_of(update_kind):
            for name, value in op.payload.items():
                if value is not None and name not in (own, "plan_link"):
                    values[name] = value
        return PAYLOADS[self.create.kind].model_validate(values)

    def lead(self) -> PersonRef | None:
        """A plan's lead now: its creator's lead or coordinator, then every lead change."""
        if self.create is None:
            return None
        person: Any = self.create.payload.get("lead") or self.create.payload.get("coordinator")
        for op in self.changes_of(OpKind.CHANGE_LEAD):
            person = op.payload["lead"]
        return None if person is None else PersonRef.model_validate(person)


def group_items(ops: Sequence[Operation]) -> dict[str, DesiredItem]:
    """The operations folded per item (links key), in first-seen order."""
    items: dict[str, DesiredItem] = {}

    def item(link: str, target: Target) -> DesiredItem:
        return items.setdefault(link, DesiredItem(link=link, target=target))

    for op in ops:
        if op.kind in CREATE_KINDS and op.link is not None:
            item(op.link, op.target).create = op
        changed = changed_item(op)
        if changed is not None:
            item(changed, op.target).changes.append(op)
    return items


@dataclass(frozen=True)
class Desired:
    """A case replayed: its operations in order, and the planner state they leave."""

    operations: tuple[Operation, ...] = ()
    state: CaseState | None = None


async def desired_plan(
    store: Store, key: CaseKey, rules: PlanningRules, lookup: RulesLookup
) -> Desired:
    """Replay the case's decided (planned or held) events from an empty state."""
    rows = [
        r
        for r in await store.events.events_for_case(key.tenant, key.case_id)
        if r.state in _DECIDED
    ]
    events, _, _ = load_events(rows, lookup)
    if not events:
        return Desired()
    result = replay(events, rules)
    return Desired(result.operations, result.state)
