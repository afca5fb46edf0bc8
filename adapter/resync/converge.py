"""`stafett resync`: converge the remote systems to the replayed events, through the outbox.

Per case: replay its events (`desired`), read what exists (`remote`), diff (`diff`), then
apply the findings to the store only — put links (adopt), requeue done operations whose
effect is gone (they keep their op_refs), insert correcting updates — and let the normal
dispatcher run them (`run_once(poll=False)`), so claims and leases keep it safe beside a
running service: no remote write happens here except through a claimed operation.

Cases are handled in small batches (their reads in parallel, bounded by the dispatch
concurrency), so memory stays bounded by the batch, never by the number of cases.
Dry-run computes the same findings and changes nothing (reads only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from adapter.errors import RemoteError
from adapter.logs import get_logger
from adapter.planning import Operation
from adapter.resync.desired import desired_operations
from adapter.resync.diff import Action, CaseDiff, Finding, diff_case
from adapter.resync.remote import read_case
from adapter.runner.once import run_once
from adapter.runner.plan_step import plan_pending
from adapter.runner.runtime import Runtime
from adapter.store.records import CaseKey
from adapter.store.states import EventState, Target
from adapter.store.store import Store

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


def finding_json(diff: CaseDiff, f: Finding) -> dict[str, Any]:
    """A finding as `reported` / `drift` list it."""
    return {
        "tenant": diff.tenant,
        "case_id": diff.case_id,
        "kind": f.kind,
        "item": f.item,
        "problem": f.problem,
    }


@dataclass
class ResyncReport:
    """The contract's `resync --json` object, plus the planned actions of a dry-run."""

    cases: int = 0
    created: int = 0
    updated: int = 0
    adopted: int = 0
    unchanged: int = 0
    reported: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0

    def add(self, diff: CaseDiff) -> None:
        """Count one case's findings."""
        self.cases += 1
        self.created += diff.count(Action.CREATE)
        self.updated += diff.count(Action.UPDATE)
        self.adopted += diff.count(Action.ADOPT)
        self.unchanged += diff.count(Action.UNCHANGED)
        for f in diff.findings:
            if f.action is Action.REPORT:
                self.reported.append(finding_json(diff, f))
            elif f.action is not Action.UNCHANGED:
                self.actions.append({"action": f.action.value, **finding_json(diff, f)})

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
    occurred on or after that day."""
    keys = [case] if case is not None else await store.cases_with_events(_LIVE_STATES, tenant)
    if since is None:
        return keys
    chosen = []
    for key in keys:
        rows = await store.events_for_case(key.tenant, key.case_id)
        if any(r.occurred_at is not None and r.occurred_at.date() >= since for r in rows):
            chosen.append(key)
    return chosen


async def analyse_case(rt: Runtime, key: CaseKey) -> CaseDiff:
    """Replay, read and diff one case; a remote that cannot be read is reported."""
    rules = rt.rules.get(key.tenant)
    if rules is None:
        return CaseDiff(key.tenant, key.case_id)
    ops = await desired_operations(rt.store, key, rules, rt.lookup)
    rows = {r.op_ref: r for r in await rt.store.operations_for_case(key.tenant, key.case_id)}
    links = await rt.store.links_for_case(key.tenant, key.case_id)
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
                problem=f"remote unreadable ({type(exc).__name__})",
            )
        )
        return diff
    return diff_case(key.tenant, key.case_id, ops, rows, links, remote)


async def analyse_cases(rt: Runtime, keys: Sequence[CaseKey]) -> list[CaseDiff]:
    """Several cases' diffs, their reads in parallel up to the dispatch concurrency."""
    gate = asyncio.Semaphore(max(1, rt.settings.dispatch.concurrency))

    async def one(key: CaseKey) -> CaseDiff:
        async with gate:
            return await analyse_case(rt, key)

    return list(await asyncio.gather(*(one(k) for k in keys)))


async def apply_diff(store: Store, diff: CaseDiff, now: datetime) -> bool:
    """Write one case's findings to the store (links, requeues, inserts); True if any."""
    requeue: list[int] = []
    inserts: list[Operation] = []
    for f in diff.findings:
        if f.link is not None and f.remote_id is not None:
            await store.put_link(diff.tenant, diff.case_id, f.target, f.link, f.remote_id)
        requeue.extend(f.requeue)
        inserts.extend(f.insert)
    if requeue:
        await store.requeue_operations(sorted(set(requeue)), now)
    if inserts:
        await store.add_operations(inserts)
    return bool(requeue or inserts)


async def resync(
    rt: Runtime,
    keys: Sequence[CaseKey],
    *,
    dry_run: bool = False,
    max_wait_s: float = 60.0,
    batch: int = BATCH,
    on_case: Callable[[], None] | None = None,
) -> ResyncReport:
    """Converge the given cases (see the module docstring); dry-run only reads."""
    report = ResyncReport()
    if not dry_run:
        await plan_pending(rt.store, rt.rules, rt.lookup)
    for start in range(0, len(keys), max(1, batch)):
        diffs = await analyse_cases(rt, keys[start : start + batch])
        work = False
        for diff in diffs:
            report.add(diff)
            report.unreadable += any(
                f.problem is not None and f.problem.startswith("remote unreadable")
                for f in diff.findings
            )
            if not dry_run:
                work |= await apply_diff(rt.store, diff, rt.clock())
            if on_case is not None:
                on_case()
        if work:
            await run_once(rt, poll=False, max_wait_s=max_wait_s)
    if not dry_run:
        wanted = set(keys)
        for parked in await rt.store.parked_cases():
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
    return report
