"""`stafett resync`: converge the remote systems to the replayed events, through the outbox.

Per case: replay its events (`desired`), read what exists (`remote`), diff (`diff`), then
apply the findings to the store only — put links (adopt), requeue done operations whose
effect is gone (they keep their op_refs), insert correcting updates and the operations the
outbox never had — together with the case's audit row, in one transaction
(`Store.apply_resync`), and let the normal dispatcher run them (`run_once(poll=False)`), so
claims and leases keep it safe beside a running service: no remote write happens here
except through a claimed operation, and every requeued or inserted create is looked up
before it is sent.

When the stored planner state differs from the replayed one (a planner upgrade, a
divergent store), the replayed state is stored too, guarded by the case's version: the
live planner plans the case's next event on top of what resync converged to, not on a
state that no longer matches the outbox. A case planned meanwhile keeps its state and is
reported (resync it again).

Cases are handled in small batches (their reads in parallel, bounded by the dispatch
concurrency); only counts and what is reported are kept across batches, and a dry-run's
planned actions are handed out per batch (`on_actions`), so memory stays bounded by the
batch, never by the number of cases. Dry-run computes the same findings and changes nothing
(reads only) but its audit row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from adapter.errors import RemoteError
from adapter.jobs.once import run_once
from adapter.jobs.plan_step import plan_pending
from adapter.logs import get_logger
from adapter.planning import CaseState
from adapter.planning.clock import oslo_date
from adapter.resync.desired import desired_plan
from adapter.resync.diff import Action, CaseDiff, Finding, diff_case
from adapter.resync.findings import UNREADABLE
from adapter.resync.remote import read_case
from adapter.store.audit_repo import Actor, ResyncChange
from adapter.store.cases_repo import CaseVersionConflict
from adapter.store.records import CaseKey, CaseRecord
from adapter.store.states import EventState, Target
from adapter.store.store import Store
from adapter.wiring.runtime import Runtime

__all__ = [
    "BATCH",
    "ResyncReport",
    "analyse_case",
    "analyse_cases",
    "apply_diff",
    "case_keys",
    "resync",
]

log = get_logger(__name__)

BATCH = 50
"""Cases diffed (and then dispatched) together."""

_LIVE_STATES = (EventState.ACCEPTED, EventState.HELD, EventState.PLANNED)
_PLANNED_MEANWHILE = "planned meanwhile: nothing changed, resync it again"
_STATE_DIFFERS = "stored planner state differs from the replay"


def finding_json(diff: CaseDiff, f: Finding) -> dict[str, Any]:
    """A finding as `reported` / `drift` list it."""
    return {
        "tenant": diff.tenant,
        "case_id": diff.case_id,
        "kind": f.kind,
        "item": f.item,
        "problem": f.problem,
    }


def _case_json(diff: CaseDiff, problem: str, kind: str = "case") -> dict[str, Any]:
    return {
        "tenant": diff.tenant,
        "case_id": diff.case_id,
        "kind": kind,
        "item": diff.case_id,
        "problem": problem,
    }


@dataclass
class ResyncReport:
    """The contract's `resync --json` object. `actions` (what a dry-run would do) is kept
    only for a dry-run without an `on_actions` consumer."""

    cases: int = 0
    created: int = 0
    updated: int = 0
    adopted: int = 0
    unchanged: int = 0
    reported: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0

    def add(self, diff: CaseDiff) -> list[dict[str, Any]]:
        """Count one case's findings; returns its actions (what it does or would do)."""
        self.cases += 1
        self.created += diff.count(Action.CREATE)
        self.updated += diff.count(Action.UPDATE)
        self.adopted += diff.count(Action.ADOPT)
        self.unchanged += diff.count(Action.UNCHANGED)
        self.unreadable += diff.unreadable
        actions = []
        for f in diff.findings:
            if f.action is Action.REPORT:
                self.reported.append(finding_json(diff, f))
            elif f.action is not Action.UNCHANGED:
                actions.append({"action": f.action.value, **finding_json(diff, f)})
        if diff.state is not None:
            actions.append({"action": "update", **_case_json(diff, _STATE_DIFFERS, "state")})
        return actions

    def counts(self) -> dict[str, int]:
        """The counts of the report (what the audit row keeps)."""
        return {
            "cases": self.cases,
            "created": self.created,
            "updated": self.updated,
            "adopted": self.adopted,
            "unchanged": self.unchanged,
            "reported": len(self.reported),
            "unreadable": self.unreadable,
        }

    def as_json(self, *, dry_run: bool = False) -> dict[str, Any]:
        """`{"cases", "created", "updated", "adopted", "unchanged", "reported"}` (+ `actions`
        on a dry-run: what it would do)."""
        out: dict[str, Any] = {
            "cases": self.cases,
            "created": self.created,
            "updated": self.updated,
            "adopted": self.adopted,
            "unchanged": self.unchanged,
            "reported": self.reported,
        }
        if dry_run:
            out["actions"] = self.actions
        return out


async def case_keys(
    store: Store,
    *,
    tenant: str | None = None,
    case: CaseKey | None = None,
    since: date | None = None,
) -> list[CaseKey]:
    """The cases to handle: one, a tenant's, or all; with `since`, those with an event that
    occurred on or after that day (the day in Europe/Oslo, like every date rule)."""
    keys = (
        [case] if case is not None else await store.events.cases_with_events(_LIVE_STATES, tenant)
    )
    if since is None:
        return keys
    chosen = []
    for key in keys:
        rows = await store.events.events_for_case(key.tenant, key.case_id)
        if any(r.occurred_at is not None and oslo_date(r.occurred_at) >= since for r in rows):
            chosen.append(key)
    return chosen


def _state_differs(record: CaseRecord, replayed: CaseState) -> bool:
    """Whether the stored planner state is not the replayed one, over the same events."""
    if record.last_sequence_planned != replayed.last_sequence:
        return False  # planned meanwhile (or held): the live planner owns it
    try:
        return CaseState.model_validate_json(record.state) != replayed
    except ValidationError:
        return True  # a state an older planner wrote, that this one cannot read


async def analyse_case(rt: Runtime, key: CaseKey) -> CaseDiff:
    """Replay, read and diff one case; a remote that cannot be read is reported."""
    rules = rt.rules.get(key.tenant)
    if rules is None:
        return CaseDiff(key.tenant, key.case_id)
    # The stored state first: a planning step between here and the replay leaves it behind
    # the replay, so it is not overwritten (see `_state_differs`).
    record = await rt.store.cases.load_case(key.tenant, key.case_id)
    if record is not None and record.purged_at is not None:
        # retention purged its personal data: there is nothing left to replay, nothing to
        # converge (the case was closed, with nothing waiting, when it was purged)
        return CaseDiff(key.tenant, key.case_id)
    desired = await desired_plan(rt.store, key, rules, rt.lookup)
    ops = desired.operations
    rows = {r.op_ref: r for r in await rt.store.outbox.operations_for_case(key.tenant, key.case_id)}
    links = await rt.store.links.links_for_case(key.tenant, key.case_id)
    try:
        remote = await read_case(
            key,
            ops,
            links,
            rt.client(key.tenant, Target.SAMSPILL),
            rt.client(key.tenant, Target.P360),
        )
    except RemoteError as exc:
        log.warning(
            "remote unreadable", tenant=key.tenant, case=key.case_id, error=type(exc).__name__
        )
        diff = CaseDiff(key.tenant, key.case_id)
        diff.findings.append(
            Finding(
                Target.SAMSPILL,
                "case",
                key.case_id,
                Action.REPORT,
                problem=f"{UNREADABLE} ({type(exc).__name__})",
            )
        )
        return diff
    diff = diff_case(key.tenant, key.case_id, ops, rows, links, remote)
    requeued = {i for f in diff.findings for i in f.requeue}
    diff.seen = {r.id: r.done_at for r in rows.values() if r.id in requeued}
    if desired.state is not None and record is not None and _state_differs(record, desired.state):
        diff.state, diff.stored = desired.state, record
    return diff


async def analyse_cases(rt: Runtime, keys: Sequence[CaseKey]) -> list[CaseDiff]:
    """Several cases' diffs, their reads in parallel up to the dispatch concurrency."""
    gate = asyncio.Semaphore(max(1, rt.settings.dispatch.concurrency))

    async def one(key: CaseKey) -> CaseDiff:
        async with gate:
            return await analyse_case(rt, key)

    return list(await asyncio.gather(*(one(k) for k in keys)))


def _change(diff: CaseDiff) -> ResyncChange:
    links = tuple(
        (f.target, f.link, f.remote_id)
        for f in diff.findings
        if f.link is not None and f.remote_id is not None
    )
    requeue = tuple(i for f in diff.findings for i in f.requeue)
    insert = tuple(op for f in diff.findings for op in f.insert)
    if diff.state is None or diff.stored is None:
        return ResyncChange(diff.tenant, diff.case_id, links, requeue, insert, diff.seen)
    return ResyncChange(
        diff.tenant,
        diff.case_id,
        links,
        requeue,
        insert,
        diff.seen,
        state=diff.state.model_dump_json(),
        state_version=diff.stored.version,
        last_sequence=diff.state.last_sequence,
        closed_at=diff.stored.closed_at,
    )


async def apply_diff(store: Store, diff: CaseDiff, actor: Actor) -> bool:
    """Write one case's findings to the store with its audit row (one transaction); True if
    anything was written. Raises `CaseVersionConflict` when the case was planned meanwhile
    and its replayed state was to be stored: then nothing is written."""
    change = _change(diff)
    if change.empty:
        return False
    details = {
        "created": diff.count(Action.CREATE),
        "updated": diff.count(Action.UPDATE),
        "adopted": diff.count(Action.ADOPT),
        "requeued": len(set(change.requeue)),
        "inserted": len(change.insert),
        "state_stored": change.state is not None,
    }
    await store.audit.apply_resync(change, actor, details)
    return True


async def resync(
    rt: Runtime,
    keys: Sequence[CaseKey],
    *,
    actor: Actor,
    selection: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    max_wait_s: float = 60.0,
    batch: int = BATCH,
    on_case: Callable[[], None] | None = None,
    on_actions: Callable[[list[dict[str, Any]]], None] | None = None,
) -> ResyncReport:
    """Converge the given cases (see the module docstring); dry-run only reads.

    `actor` (who and why) and `selection` (what was asked for) go into the audit trail: a
    `resync.case` row per changed case and one `resync.run` row with the counts at the end.
    A dry-run's actions go to `on_actions` per batch, or into `ResyncReport.actions`.
    """
    report = ResyncReport()
    if not dry_run:
        await plan_pending(rt.store, rt.rules, rt.lookup)
    for start in range(0, len(keys), max(1, batch)):
        diffs = await analyse_cases(rt, keys[start : start + batch])
        work = False
        actions: list[dict[str, Any]] = []
        for diff in diffs:
            actions.extend(report.add(diff))
            if not dry_run:
                try:
                    work |= await apply_diff(rt.store, diff, actor)
                except CaseVersionConflict:
                    report.reported.append(_case_json(diff, _PLANNED_MEANWHILE))
            if on_case is not None:
                on_case()
        if dry_run and on_actions is not None:
            on_actions(actions)
        elif dry_run:
            report.actions.extend(actions)
        if work:
            await run_once(rt, poll=False, max_wait_s=max_wait_s)
    if not dry_run:
        wanted = set(keys)
        for parked in await rt.store.outbox.parked_cases():
            if parked in wanted:
                report.reported.append(
                    {
                        "tenant": parked.tenant,
                        "case_id": parked.case_id,
                        "kind": "case",
                        "item": parked.case_id,
                        "problem": "operations parked (see `stafett parked list`)",
                    }
                )
    await rt.store.audit.write_audit(
        "resync.run",
        actor=actor.name,
        reason=actor.reason,
        details={**(selection or {}), "dry_run": dry_run, **report.counts()},
    )
    return report
