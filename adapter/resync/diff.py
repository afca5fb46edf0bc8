"""Pure: the desired operations, the outbox rows, the links and the remote state → findings.

One `Finding` per remote item that needs attention (or is fine):

- `create`: missing remotely — its create operation (and the later changes of the item)
  are put back to `pending` in the outbox (`requeue`: they keep their op_refs and their
  place, and the dispatcher looks each up by its reference before it creates it again).
  When a plan (or the archive case) is gone, that plan's done operations are requeued in
  order: its history replays exactly. A stafettlogg whose IP still exists is closed (it
  was transferred): its absence is reported, never replayed, since replaying it would
  transfer it again into a second IP. A gone IP is transferred again only from a
  stafettlogg that is open and untransferred remotely; otherwise it is reported.
- `update`: a mutable item (goal, measure, responsibility, calendar entry, consent status,
  plan lead, plan/archive status) differs — a correcting operation is enqueued (a new
  ``#resync-<n>`` update) or the done one that set it is requeued.
- `adopt`: the item exists but the links table does not point at it — `link` is put.
- `unchanged`: present and equal.
- `report`: cannot or must not converge — differences on closed plans or a closed archive
  case, append-only data, unknown remote items carrying our reference, duplicates.

Operations the replay asks for that the outbox never had (a planner upgrade, a divergent
store) are inserted (`insert`) in replay order, after the case's stored operations of their
target, and looked up before they create; where that order would put one after the end of
its plan or archive case, it is reported instead.

Items whose stored operations are still under way (pending, in flight, unknown, parked)
are left out: the dispatcher owns them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from adapter.errors import PermanentError
from adapter.planning import Operation, OpKind, Target
from adapter.planning.links import LEAD_LINK
from adapter.planning.payloads import PAYLOADS, ChangeLead, Payload
from adapter.resync.desired import (
    CREATE_KINDS,
    UPDATE_OF,
    DesiredItem,
    changed_item,
    group_items,
    item_kind,
)
from adapter.resync.findings import (
    CLOSED_REMOTELY,
    DIFFERENT,
    DUPLICATE,
    MISSING,
    NOT_LINKED,
    NOT_QUEUED,
    UNKNOWN,
    Action,
    CaseDiff,
    Finding,
    differing,
    same,
)
from adapter.resync.remote import COLLECTION_OF, RemoteCase, RemotePlan
from adapter.store.records import StoredOperation
from adapter.store.states import OperationState
from adapter.targets.samspill import item_fields, person_fields

__all__ = ["Action", "CaseDiff", "Finding", "diff_case", "same"]

_PLAN_CREATES = (OpKind.CREATE_PLAN, OpKind.TRANSFER_PLAN)
_ENDS = {
    Target.SAMSPILL: (OpKind.CLOSE_PLAN, OpKind.TRANSFER_PLAN),
    Target.P360: (OpKind.CLOSE_CASE,),
}
_FINISHED = (OperationState.DONE, OperationState.SKIPPED)


def _home(op: Operation) -> str | None:
    """The links key of the plan or archive case an operation acts in (None: none, or it
    creates that root itself)."""
    if op.kind in (OpKind.CREATE_PLAN, OpKind.ENSURE_CASE, OpKind.SYNC_PERSON):
        return None
    home = op.payload.get("plan_link" if op.target is Target.SAMSPILL else "case_link")
    return home if isinstance(home, str) else None


def _plan_of(op: Operation) -> str | None:
    """The plan whose history an operation belongs to: the one it creates (a transfer
    creates the IP), else the one it acts on."""
    return op.link if op.kind in _PLAN_CREATES else _home(op)


class _Case:
    """One diff run: the inputs and the findings as they are made."""

    def __init__(
        self,
        tenant: str,
        case_id: str,
        ops: Sequence[Operation],
        rows: Mapping[str, StoredOperation],
        links: Mapping[tuple[Target, str], str],
        remote: RemoteCase,
    ) -> None:
        self.ops = ops
        self.rows = rows
        self.links = links
        self.remote = remote
        self.items = group_items(ops)
        self.diff = CaseDiff(tenant, case_id)
        self.prefix = f"stafett:{tenant}:{case_id}:"
        self.recreated: set[str] = set()
        self.replayed: set[str] = set()
        self.resync_n: Counter[str] = Counter(
            ref.split("#resync-", 1)[0] for ref in rows if "#resync-" in ref
        )

    # --- helpers -------------------------------------------------------------------------

    def add(self, item: DesiredItem | str, target: Target, action: Action, **kw: Any) -> None:
        link = item if isinstance(item, str) else item.link
        self.diff.findings.append(Finding(target, item_kind(link), link, action, **kw))

    def state(self, op: Operation) -> OperationState | None:
        row = self.rows.get(op.op_ref)
        return None if row is None else row.state

    def done(self, op: Operation | None) -> bool:
        return op is not None and self.state(op) is OperationState.DONE

    def settled(self, item: DesiredItem) -> bool:
        """Every operation of the item is done or skipped (nothing of it is under way)."""
        return all(self.state(op) in _FINISHED for op in item.ops)

    def done_ids(self, ops: Sequence[Operation]) -> tuple[int, ...]:
        return tuple(self.rows[op.op_ref].id for op in ops if self.state(op) is OperationState.DONE)

    def ids(self) -> dict[str, str]:
        out = {
            key: remote for (target, key), remote in self.links.items() if target is Target.SAMSPILL
        }
        out[LEAD_LINK] = LEAD_LINK
        for link in self.recreated:  # their new ids are not known yet: whoever names them differs
            out[link] = f"recreated:{link}"
        return out

    def new_ref(self, base: str) -> str:
        self.resync_n[base] += 1
        return f"{base}#resync-{self.resync_n[base]}"

    def new_op(self, like: Operation, kind: OpKind, payload: Payload) -> Operation:
        base = like.op_ref.split("#", 1)[0]
        return Operation(
            op_ref=self.new_ref(base),
            tenant=like.tenant,
            case_id=like.case_id,
            target=like.target,
            kind=kind,
            payload=payload.model_dump(mode="json"),
        )

    def replay(self, ops: Iterable[Operation], root: str) -> None:
        """`root` (a plan or the archive case) is gone: its done operations run again, in
        order."""
        self.replayed.add(root)
        for op in ops:
            if self.state(op) is not OperationState.DONE:
                continue
            creates = op.kind in CREATE_KINDS and op.link is not None
            self.add(
                op.link if creates and op.link is not None else root,
                op.target,
                Action.CREATE if creates else Action.UPDATE,
                problem=MISSING if creates else None,
                requeue=(self.rows[op.op_ref].id,),
            )

    def adopt(self, item: DesiredItem, remote_id: str) -> bool:
        """Put the link when it does not point at the remote item; True when it did not."""
        if self.links.get((item.target, item.link)) == remote_id:
            return False
        self.add(
            item, item.target, Action.ADOPT, problem=NOT_LINKED, link=item.link, remote_id=remote_id
        )
        return True

    # --- Samspill ------------------------------------------------------------------------

    def samspill(self) -> None:
        plans = [
            i
            for i in self.items.values()
            if i.create is not None and i.create.kind in _PLAN_CREATES
        ]
        root = next(
            (p for p in plans if p.create is not None and p.create.kind is OpKind.CREATE_PLAN), None
        )
        if root is None or not self.done(root.create):
            return
        transfers = [p for p in plans if p is not root]
        if self.remote.plans.get(root.link) is None:
            if all(self.remote.plans.get(p.link) is None for p in transfers):
                self.replay((op for op in self.ops if op.target is Target.SAMSPILL), root.link)
                return
            # Its IP exists, so it was closed by the transfer: replaying it would transfer
            # it again (a second IP), and a closed plan is reported, never rewritten.
            self.add(
                root,
                Target.SAMSPILL,
                Action.REPORT,
                problem=f"{MISSING} (closed: transferred to the IP)",
            )
        for plan_item in transfers:
            if self.remote.plans.get(plan_item.link) is None and self.done(plan_item.create):
                self.missing_ip(plan_item)
        for plan_item in plans:
            plan = self.remote.plans.get(plan_item.link)
            if plan is None or not self.done(plan_item.create):
                continue  # reported or replayed above, or under way
            changed = self.adopt(plan_item, plan.plan_id)
            changed |= self.plan_lead(plan_item, plan)
            changed |= self.plan_status(plan_item, plan)
            if not changed:
                self.add(plan_item, Target.SAMSPILL, Action.UNCHANGED)
        collection_items = [
            i
            for i in self.items.values()
            if i.create is not None and i.create.kind in COLLECTION_OF
        ]
        for item in collection_items:
            if self.locate(item) == "recreate":
                self.recreated.add(item.link)
        for item in collection_items:
            self.collection_item(item)
        self.unknown_items()

    def missing_ip(self, item: DesiredItem) -> None:
        """The IP is gone while its stafettlogg is there: transfer again (the IP's history
        replays) while the stafettlogg is open and not transferred remotely; otherwise it
        cannot be transferred twice, and the IP is reported."""
        assert item.create is not None
        source = self.remote.plans.get(str(item.create.payload.get("plan_link")))
        if source is not None and not source.closed and source.transferred_to is None:
            self.replay(
                (
                    op
                    for op in self.ops
                    if op.target is Target.SAMSPILL and _plan_of(op) == item.link
                ),
                item.link,
            )
            return
        self.add(
            item,
            Target.SAMSPILL,
            Action.REPORT,
            problem=f"{MISSING} (its stafettlogg is closed: it cannot be transferred again)",
        )

    def locate(self, item: DesiredItem) -> str | None:
        """`recreate` when the item is settled, missing remotely and its plan is open."""
        create = item.create
        if create is None or create.op_ref not in self.rows or not self.settled(item):
            return None
        if self.state(create) is not OperationState.DONE or item.changes_of(
            OpKind.REMOVE_PARTICIPANT
        ):
            return None
        plan = self.remote.plans.get(str(create.payload.get("plan_link")))
        if plan is None or plan.closed:
            return None
        found = plan.find(
            COLLECTION_OF[create.kind],
            remote_id=self.links.get((Target.SAMSPILL, item.link)),
            reference=str(create.payload.get("external_reference")),
        )
        return "recreate" if found is None else None

    def plan_lead(self, item: DesiredItem, plan: RemotePlan) -> bool:
        lead = item.lead()
        if lead is None or item.create is None:
            return False
        if not self.settled(item) or not differing(person_fields(lead), plan.lead):
            return False
        if plan.closed:
            self.add(
                item,
                Target.SAMSPILL,
                Action.REPORT,
                problem=f"{DIFFERENT}: plan lead (plan closed)",
            )
            return True
        op = self.new_op(
            item.create, OpKind.CHANGE_LEAD, ChangeLead(plan_link=item.link, lead=lead)
        )
        self.add(
            item, Target.SAMSPILL, Action.UPDATE, problem=f"{DIFFERENT}: plan lead", insert=(op,)
        )
        return True

    def plan_status(self, item: DesiredItem, plan: RemotePlan) -> bool:
        closes = item.changes_of(OpKind.CLOSE_PLAN, OpKind.TRANSFER_PLAN)
        if not all(self.state(op) in _FINISHED for op in closes):
            return False
        if closes and closes[-1].link in self.replayed:
            return False  # its transfer runs again
        if plan.closed and not closes:
            self.add(item, Target.SAMSPILL, Action.REPORT, problem=CLOSED_REMOTELY)
            return True
        if closes and not plan.closed:
            close = closes[-1]
            if close.kind is OpKind.CLOSE_PLAN and self.state(close) is OperationState.DONE:
                self.add(
                    item,
                    Target.SAMSPILL,
                    Action.UPDATE,
                    problem=f"{DIFFERENT}: open remotely",
                    requeue=self.done_ids([close]),
                )
            else:
                self.add(
                    item, Target.SAMSPILL, Action.REPORT, problem=f"{DIFFERENT}: open remotely"
                )
            return True
        return False

    def collection_item(self, item: DesiredItem) -> None:
        create = item.create
        assert create is not None
        if create.op_ref not in self.rows or not self.settled(item):
            return  # under way: the dispatcher owns it
        if self.state(create) is not OperationState.DONE:
            return  # skipped by an operator
        plan = self.remote.plans.get(str(create.payload.get("plan_link")))
        if plan is None:
            return  # the plan itself is reported
        collection = COLLECTION_OF[create.kind]
        reference = str(create.payload.get("external_reference"))
        linked = self.links.get((Target.SAMSPILL, item.link))
        found = plan.find(collection, remote_id=linked, reference=reference)
        removes = item.changes_of(OpKind.REMOVE_PARTICIPANT)
        if found is None:
            if removes:
                self.add(item, Target.SAMSPILL, Action.UNCHANGED)
            elif plan.closed:
                self.add(item, Target.SAMSPILL, Action.REPORT, problem=f"{MISSING} (plan closed)")
            else:
                self.add(
                    item,
                    Target.SAMSPILL,
                    Action.CREATE,
                    problem=MISSING,
                    requeue=self.done_ids(item.ops),
                )
            return
        adopted = self.adopt(item, found.id)
        if removes:
            if plan.closed:
                self.add(
                    item,
                    Target.SAMSPILL,
                    Action.REPORT,
                    problem=f"{DIFFERENT}: still a participant (plan closed)",
                )
            else:
                self.add(
                    item,
                    Target.SAMSPILL,
                    Action.UPDATE,
                    problem=f"{DIFFERENT}: still a participant",
                    requeue=self.done_ids(removes),
                )
            return
        if self.content(item, plan, found.fields) or adopted:
            return
        self.add(item, Target.SAMSPILL, Action.UNCHANGED)

    def content(self, item: DesiredItem, plan: RemotePlan, have: Mapping[str, Any]) -> bool:
        """Compare a mutable item (or a consent's status); True when a finding was made."""
        create = item.create
        assert create is not None
        if create.kind is OpKind.ADD_CONSENT:
            updates = item.changes_of(OpKind.UPDATE_CONSENT)
            status = str(updates[-1].payload["status"]) if updates else "active"
            if have.get("status") == status:
                return False
            if plan.closed or not updates:
                self.add(item, Target.SAMSPILL, Action.REPORT, problem=f"{DIFFERENT}: status")
            else:
                self.add(
                    item,
                    Target.SAMSPILL,
                    Action.UPDATE,
                    problem=f"{DIFFERENT}: status",
                    requeue=self.done_ids(updates[-1:]),
                )
            return True
        merged = item.merged()
        if merged is None:
            return False  # participants and log lines: existence only (the log is append-only)
        ids = self.ids()
        try:
            want = item_fields(create.kind, merged, ids)
        except PermanentError:
            return False  # a referenced item is not linked: nothing to compare against
        fields = differing(want, have)
        if not fields:
            return False
        problem = f"{DIFFERENT}: {', '.join(fields)}"
        update_kind = UPDATE_OF[create.kind]
        allowed = PAYLOADS[update_kind].model_fields
        values = {k: v for k, v in merged.model_dump().items() if k in allowed}
        own = next(k for k in allowed if k.endswith("_link") and k not in values)
        correction = PAYLOADS[update_kind].model_validate({**values, own: item.link})
        try:
            sends = item_fields(update_kind, correction, ids)
        except PermanentError:
            sends = {}
        if plan.closed or any(k not in sends or not same(sends[k], want[k]) for k in fields):
            self.add(
                item,
                Target.SAMSPILL,
                Action.REPORT,
                problem=problem + (" (plan closed)" if plan.closed else " (not correctable)"),
            )
            return True
        op = self.new_op(create, update_kind, correction)
        self.add(item, Target.SAMSPILL, Action.UPDATE, problem=problem, insert=(op,))
        return True

    def unknown_items(self) -> None:
        known = {
            str(op.payload["external_reference"])
            for op in self.ops
            if isinstance(op.payload.get("external_reference"), str)
        }
        for op in self.ops:
            adopt = op.payload.get("adopt")
            if isinstance(adopt, dict):
                known.update(str(v) for v in adopt.values())
        plan_refs = {p.reference for p in self.remote.plans.values() if p is not None}
        for link, plan in self.remote.plans.items():
            if plan is None:
                continue
            for collection, items in plan.items.items():
                seen: Counter[str] = Counter()
                for remote_item in items:
                    ref = remote_item.reference
                    if ref is None or not ref.startswith(self.prefix) or ref in plan_refs:
                        continue
                    seen[ref] += 1
                    if ref not in known:
                        self.add(
                            f"{link}/{collection}:{remote_item.id}",
                            Target.SAMSPILL,
                            Action.REPORT,
                            problem=UNKNOWN,
                        )
                for ref, n in seen.items():
                    if n > 1:
                        self.add(
                            f"{link}/{collection}:{ref.removeprefix(self.prefix)}",
                            Target.SAMSPILL,
                            Action.REPORT,
                            problem=DUPLICATE,
                        )

    # --- Public 360 ----------------------------------------------------------------------

    def archive(self) -> None:
        root = next(
            (
                i
                for i in self.items.values()
                if i.create is not None and i.create.kind is OpKind.ENSURE_CASE
            ),
            None,
        )
        if root is None or not self.done(root.create):
            return
        case = self.remote.archive
        if case is None:
            self.replay((op for op in self.ops if op.target is Target.P360), root.link)
            return
        changed = self.adopt(root, case.case_number)
        closes = root.changes_of(OpKind.CLOSE_CASE)
        if all(self.state(op) in _FINISHED for op in closes):
            if case.closed and not closes:
                self.add(root, Target.P360, Action.REPORT, problem=CLOSED_REMOTELY)
                changed = True
            elif closes and not case.closed:
                self.add(
                    root,
                    Target.P360,
                    Action.UPDATE,
                    problem=f"{DIFFERENT}: open remotely",
                    requeue=self.done_ids(closes[-1:]),
                )
                changed = True
        if not changed:
            self.add(root, Target.P360, Action.UNCHANGED)
        wanted: set[str] = set()
        for item in self.items.values():
            create = item.create
            if create is None or create.kind is not OpKind.CREATE_DOCUMENT:
                continue
            wanted.add(create.op_ref)
            if create.op_ref not in self.rows or self.state(create) is not OperationState.DONE:
                continue
            numbers = case.documents.get(create.op_ref, ())
            if len(numbers) > 1:
                self.add(item, Target.P360, Action.REPORT, problem=DUPLICATE)
            if not numbers:
                if case.closed:
                    self.add(
                        item, Target.P360, Action.REPORT, problem=f"{MISSING} (archive case closed)"
                    )
                else:
                    self.add(
                        item,
                        Target.P360,
                        Action.CREATE,
                        problem=MISSING,
                        requeue=self.done_ids([create]),
                    )
            elif not self.adopt(item, numbers[0]):
                self.add(item, Target.P360, Action.UNCHANGED)
        for ref in case.documents:
            if ref.startswith(self.prefix) and ref not in wanted:
                self.add(
                    f"document:{ref.removeprefix(self.prefix)}",
                    Target.P360,
                    Action.REPORT,
                    problem=UNKNOWN,
                )

    # --- operations the outbox never had ----------------------------------------------

    def never_queued(self) -> None:
        """Insert the replayed operations the outbox lacks, in order (see the module
        docstring): what exists already is adopted; what is missing is created unless it
        would land after the end of its plan or archive case (then it is reported)."""
        for op in self.ops:
            if op.op_ref in self.rows:
                continue
            creates = op.kind in CREATE_KINDS and op.link is not None
            item = op.link if creates else changed_item(op) or _home(op) or op.op_ref
            assert item is not None
            found = self.existing(op) if creates else None
            if found is not None:
                # It exists already: the inserted create is looked up and adopted by the
                # dispatcher, so it sends nothing, even to a closed plan.
                relink = self.links.get((op.target, item)) != found
                self.add(
                    item,
                    op.target,
                    Action.ADOPT,
                    problem=NOT_QUEUED,
                    insert=(op,),
                    link=item if relink else None,
                    remote_id=found if relink else None,
                )
                continue
            blocked = self.blocked(op)
            if blocked is not None:
                self.add(item, op.target, Action.REPORT, problem=f"{NOT_QUEUED} ({blocked})")
            elif creates:
                self.add(
                    item,
                    op.target,
                    Action.CREATE,
                    problem=f"{MISSING} ({NOT_QUEUED})",
                    insert=(op,),
                )
            else:
                self.add(item, op.target, Action.UPDATE, problem=NOT_QUEUED, insert=(op,))

    def blocked(self, op: Operation) -> str | None:
        """Why `op` may not be appended to its queue (None: it may)."""
        home = _home(op)
        if home is None:
            return None
        for other in self.ops:
            if (
                other.kind in _ENDS[op.target]
                and other.op_ref in self.rows
                and self.state(other) is not OperationState.SKIPPED
                and _home(other) == home
            ):
                return (
                    "its plan is closed here"
                    if op.target is Target.SAMSPILL
                    else ("its archive case is closed here")
                )
        root = self.items.get(home)
        gone_here = root is not None and self.done(root.create) and home not in self.replayed
        if op.target is Target.SAMSPILL:
            plan = self.remote.plans.get(home)
            if plan is not None and plan.closed:
                return "its plan is closed remotely"
            if plan is None and gone_here:
                return "its plan is missing remotely"
            return None
        if self.remote.archive is not None and self.remote.archive.closed:
            return "its archive case is closed remotely"
        if self.remote.archive is None and gone_here:
            return "its archive case is missing remotely"
        return None

    def existing(self, op: Operation) -> str | None:
        """The remote id of the item `op` creates, when it exists already."""
        archive = self.remote.archive
        if op.kind in _PLAN_CREATES:
            plan = self.remote.plans.get(str(op.link))
            return None if plan is None else plan.plan_id
        if op.kind in COLLECTION_OF:
            plan = self.remote.plans.get(str(op.payload.get("plan_link")))
            found = (
                None
                if plan is None
                else plan.find(
                    COLLECTION_OF[op.kind],
                    remote_id=self.links.get((Target.SAMSPILL, str(op.link))),
                    reference=str(op.payload.get("external_reference")),
                )
            )
            return None if found is None else found.id
        if op.kind is OpKind.ENSURE_CASE:
            return None if archive is None else archive.case_number
        if op.kind is OpKind.CREATE_DOCUMENT and archive is not None:
            numbers = archive.documents.get(op.op_ref, ())
            return numbers[0] if numbers else None
        return None


def diff_case(
    tenant: str,
    case_id: str,
    ops: Sequence[Operation],
    rows: Mapping[str, StoredOperation],
    links: Mapping[tuple[Target, str], str],
    remote: RemoteCase,
) -> CaseDiff:
    """Every finding of one case (see the module docstring)."""
    run = _Case(tenant, case_id, ops, rows, links, remote)
    run.samspill()
    run.archive()
    run.never_queued()
    return run.diff
