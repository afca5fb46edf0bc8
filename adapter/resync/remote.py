"""What exists remotely for one case, read through the target clients — reads only.

Samspill: every plan the replayed operations create (``plan:stafettlogg``, ``plan:ip``),
found by the remote id in the links table, else by its `externalReference`, with all its
collections (`GET /plans/{id}` returns them). An IP is also ours when it names our
stafettlogg as `transferredFromPlanId`: a transfer answered 409 `already-transferred`
adopts an IP made elsewhere, which carries another reference. Public 360: the archive case
by ExternalId and its documents with their remarks. No write is ever sent from here (GETs
and SIF `Get*` only), so dry-run and reconcile are safe anywhere.

This module turns the wire shapes into `RemotePlan` / `RemoteArchive`; the few wire names
it reads (`planId`, `status`, `planLead`, `externalReference`, `transferredToPlanId`,
`transferredFromPlanId`, `id`; `CaseNumber`, `Status`, `DocumentNumber`) are those of
contracts/samspill.md and p360-sif.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapter.planning import Operation, OpKind, Target
from adapter.store.records import CaseKey
from adapter.targets.p360 import CLOSED_STATUS, P360Client, document_ref
from adapter.targets.result import TargetClient
from adapter.targets.samspill import SamspillClient

__all__ = ["COLLECTIONS", "RemoteArchive", "RemoteCase", "RemoteItem", "RemotePlan", "read_case"]

COLLECTIONS = (
    "participants",
    "consents",
    "goals",
    "measures",
    "responsibilities",
    "calendar",
    "log",
)

COLLECTION_OF: dict[OpKind, str] = {
    OpKind.ADD_PARTICIPANT: "participants",
    OpKind.ADD_CONSENT: "consents",
    OpKind.CREATE_GOAL: "goals",
    OpKind.CREATE_MEASURE: "measures",
    OpKind.CREATE_RESPONSIBILITY: "responsibilities",
    OpKind.CREATE_CALENDAR: "calendar",
    OpKind.APPEND_LOG: "log",
}


@dataclass(frozen=True)
class RemoteItem:
    """One item of a plan collection: its id, reference and every field as shown."""

    id: str
    reference: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class RemotePlan:
    """A plan as Samspill shows it."""

    plan_id: str
    closed: bool
    lead: Mapping[str, Any]
    reference: str | None
    items: Mapping[str, tuple[RemoteItem, ...]]
    transferred_to: str | None = None

    def find(self, collection: str, *, remote_id: str | None, reference: str) -> RemoteItem | None:
        """The item with `remote_id` (unless it carries another reference: ids can be reused
        after a wipe), else the first carrying `reference`."""
        items = self.items.get(collection, ())
        if remote_id is not None:
            for item in items:
                if item.id == remote_id and item.reference in (None, reference):
                    return item
        return next((i for i in items if i.reference == reference), None)


@dataclass(frozen=True)
class RemoteArchive:
    """The case's archive case and the op_refs its documents carry (ref → document numbers)."""

    case_number: str
    closed: bool
    documents: Mapping[str, tuple[str, ...]]


@dataclass
class RemoteCase:
    """Everything read remotely for one case; `plans` maps a plan's links key → plan or None."""

    plans: dict[str, RemotePlan | None] = field(default_factory=dict)
    archive: RemoteArchive | None = None
    archive_read: bool = False


def _plan(raw: Mapping[str, Any]) -> RemotePlan:
    items: dict[str, tuple[RemoteItem, ...]] = {}
    for name in COLLECTIONS:
        items[name] = tuple(
            RemoteItem(
                id=str(i.get("id")),
                reference=i.get("externalReference")
                if isinstance(i.get("externalReference"), str)
                else None,
                fields=i,
            )
            for i in raw.get(name) or []
            if isinstance(i, dict)
        )
    lead = raw.get("planLead")
    return RemotePlan(
        plan_id=str(raw.get("planId")),
        closed=raw.get("status") == "closed",
        lead=lead if isinstance(lead, dict) else {},
        reference=_text(raw.get("externalReference")),
        items=items,
        transferred_to=_text(raw.get("transferredToPlanId")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _archive(case: Mapping[str, Any], documents: Sequence[Mapping[str, Any]]) -> RemoteArchive:
    refs: dict[str, list[str]] = {}
    for doc in documents:
        ref = document_ref(doc)
        if ref is not None:
            refs.setdefault(ref, []).append(str(doc.get("DocumentNumber")))
    return RemoteArchive(
        case_number=str(case.get("CaseNumber")),
        closed=case.get("Status") == CLOSED_STATUS,
        documents={k: tuple(v) for k, v in refs.items()},
    )


async def _read_plan(
    samspill: SamspillClient,
    op: Operation,
    links: Mapping[tuple[Target, str], str],
    remote: RemoteCase,
    op_ref: str,
) -> Mapping[str, Any] | None:
    """The plan `op` creates: by its linked id unless that id now names another case's plan
    (ids are reused after a wipe), else by its reference; an IP also as the plan our
    stafettlogg was transferred to."""
    reference = str(op.payload["external_reference"])
    source: RemotePlan | None = None
    source_id: str | None = None
    if op.kind is OpKind.TRANSFER_PLAN:
        source_link = str(op.payload["plan_link"])
        source = remote.plans.get(source_link)
        source_id = links.get((Target.SAMSPILL, source_link)) if source is None else source.plan_id

    def from_ours(raw: Mapping[str, Any] | None) -> bool:
        return (
            raw is not None
            and source_id is not None
            and raw.get("transferredFromPlanId") == source_id
        )

    linked = links.get((Target.SAMSPILL, str(op.link)))
    if linked is not None:
        raw = await samspill.get_plan(linked, op_ref=op_ref)
        if raw is not None and (
            raw.get("externalReference") in (None, reference) or from_ours(raw)
        ):
            return raw
    found = await samspill.find_plans(reference, op_ref=op_ref)
    if found:
        return found[0]
    if source is not None and source.transferred_to not in (None, linked):
        raw = await samspill.get_plan(str(source.transferred_to), op_ref=op_ref)
        if from_ours(raw):
            return raw
    return None


async def read_case(
    key: CaseKey,
    ops: Sequence[Operation],
    links: Mapping[tuple[Target, str], str],
    samspill: TargetClient | None,
    p360: TargetClient | None,
) -> RemoteCase:
    """Read the plans and the archive case the operations create (raises `RemoteError`)."""
    remote = RemoteCase()
    op_ref = f"stafett:{key.tenant}:{key.case_id}:resync"
    for op in ops:
        if op.kind in (OpKind.CREATE_PLAN, OpKind.TRANSFER_PLAN) and op.link is not None:
            if not isinstance(samspill, SamspillClient) or op.link in remote.plans:
                continue
            raw = await _read_plan(samspill, op, links, remote, op_ref)
            remote.plans[op.link] = None if raw is None else _plan(raw)
        elif op.kind is OpKind.ENSURE_CASE and isinstance(p360, P360Client):
            if remote.archive_read:
                continue
            remote.archive_read = True
            case = await p360.find_case(
                str(op.payload["external_id"]), str(op.payload["external_system"]), op_ref=op_ref
            )
            if case is not None:
                number = str(case.get("CaseNumber"))
                remote.archive = _archive(case, await p360.list_documents(number, op_ref=op_ref))
    return remote
