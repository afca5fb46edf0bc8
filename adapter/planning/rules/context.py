"""The working context of one event: state so far, the operations it asks for, and holds.

A handler checks everything that could hold or reject the event *before* it changes the
context (raising `Hold` or `Reject`), so a held or rejected event leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from adapter.events import INTERNAL_EVENT_TYPES, Event
from adapter.planning.links import LEAD_LINK
from adapter.planning.operations import Operation, OpKind, Target, item_ref, op_ref
from adapter.planning.payloads import Payload
from adapter.planning.rules.tenant import PlanningRules
from adapter.planning.state import CaseState, ParticipantStatus, PlanStage

__all__ = ["Ctx", "Hold", "Reject", "no_consent_reason", "refuse_existing"]


class Hold(Exception):
    """The event may not go yet; `item` is the item it would create (held with it)."""

    def __init__(self, reason: str, *, item: str | None = None, blocks: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.item = item
        self.blocks = blocks


class Reject(Exception):
    """The event can never apply to this case."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def no_consent_reason(service: str) -> str:
    """The hold reason for sharing with a service no active consent covers."""
    return f"no active consent covers service '{service}'"


def refuse_existing(
    items: Mapping[str, object], kind: str, internal_id: str, instead: str | None
) -> None:
    """Reject a create of an item id the case already has (its remote item would be lost)."""
    if internal_id in items:
        hint = f"; use {instead}" if instead else "; a new one needs a new id"
        raise Reject(f"{kind} '{internal_id}' exists already{hint}")


class Ctx:
    """One event being applied: `state` is replaced as the handler goes, `ops` collects."""

    def __init__(self, state: CaseState, event: Event, rules: PlanningRules, at: date):
        self.state = state
        self.event = event
        self.rules = rules
        self.at = at
        self.ops: list[Operation] = []

    @property
    def seq(self) -> int:
        """The sequence of the event being applied (for internal events: the one after which
        it was stored)."""
        return self.event.sequence

    @property
    def suffix(self) -> str | int:
        """The op_ref suffix of a repeated effect this event causes.

        The sender's sequence for the sender's events; an internal event (which carries the
        sequence it follows, not one of its own) adds its type, so it never names the same
        operation as the sender's event of that sequence.
        """
        if self.event.type in INTERNAL_EVENT_TYPES:
            return f"{self.event.sequence}-{self.event.type.value}"
        return self.event.sequence

    # --- state -------------------------------------------------------------------------

    def update(self, **changes: Any) -> None:
        """Replace fields of the state."""
        self.state = self.state.model_copy(update=changes)

    def put(self, field: str, key: str, item: Any) -> None:
        """Set one item of a dict-valued state field."""
        items = dict(getattr(self.state, field))
        items[key] = item
        self.update(**{field: items})

    # --- sharing -----------------------------------------------------------------------

    @property
    def can_share(self) -> bool:
        """True when content may reach Samspill now: a plan exists, level 0 is left behind."""
        s = self.state
        return s.plan is not PlanStage.NONE and s.level > 0 and not s.closed

    def covered(self, service: str) -> bool:
        """True when an active consent (at the judging date) covers `service`."""
        return any(
            c.active_on(self.at) and service in c.services for c in self.state.consents.values()
        )

    def require_covered(self, service: str, *, item: str | None = None) -> None:
        """Hold when content is shared now and no active consent covers `service`."""
        if self.can_share and not self.covered(service):
            raise Hold(no_consent_reason(service), item=item)

    def require_not_held(self, kind: str, internal_id: str, *, item: str | None = None) -> None:
        """Hold when the event refers to an item whose own event is held."""
        if f"{kind}:{internal_id}" in self.state.held_items:
            raise Hold(f"refers to held {kind} '{internal_id}'", item=item)

    def item_link(self, kind: str, internal_id: str) -> str:
        """The links key a new item gets on the current plan (`ip/` prefixed in an IP)."""
        key = f"{kind}:{internal_id}"
        return f"ip/{key}" if self.state.plan is PlanStage.IP else key

    def participant_link(self, participant_id: str) -> str | None:
        """The link of a participant id as meetings and responsibilities name them, if shared."""
        if participant_id == "stafettholder":
            return LEAD_LINK
        for guardian in self.state.guardians:
            if guardian.guardian_id == participant_id:
                return guardian.link
        participant = self.state.participants.get(participant_id)
        if (
            participant is not None
            and participant.status is ParticipantStatus.ACTIVE
            and self.state.on_current_plan(participant.link)
        ):
            return participant.link
        return None

    def participant_links(self, participant_ids: Iterable[str]) -> tuple[str, ...]:
        """The links of those of `participant_ids` that are on the plan now, in order."""
        links = (self.participant_link(p) for p in participant_ids)
        return tuple(link for link in links if link is not None)

    @property
    def plan_link(self) -> str:
        """The links key of the current plan (only valid while a plan exists)."""
        link = self.state.plan_link
        if link is None:  # pragma: no cover - guarded by can_share everywhere
            raise RuntimeError("no plan yet")
        return link

    # --- operations --------------------------------------------------------------------

    def item_ref(self, kind: str, internal_id: str) -> str:
        """The external reference of an item of this case."""
        return item_ref(self.state.tenant, self.state.case_id, kind, internal_id)

    def emit(
        self,
        kind: OpKind,
        ref: tuple[str, str],
        payload: Payload,
        *,
        suffix: str | int | None = None,
        link: str | None = None,
        waits_for: str | None = None,
    ) -> str:
        """Append one operation and return its op_ref; the target follows from the kind."""
        ref_kind, internal_id = ref
        reference = op_ref(self.state.tenant, self.state.case_id, ref_kind, internal_id, suffix)
        target = Target.P360 if kind in _P360_KINDS else Target.SAMSPILL
        self.ops.append(
            Operation(
                op_ref=reference,
                tenant=self.state.tenant,
                case_id=self.state.case_id,
                target=target,
                kind=kind,
                link=link,
                payload=payload.model_dump(mode="json"),
                waits_for=waits_for,
                cause_sequence=self.seq,
            )
        )
        return reference


_P360_KINDS = frozenset(
    {OpKind.SYNC_PERSON, OpKind.ENSURE_CASE, OpKind.CREATE_DOCUMENT, OpKind.CLOSE_CASE}
)
