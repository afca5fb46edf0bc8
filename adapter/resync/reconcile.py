"""`stafett reconcile` and the service's reconcile job: report drift, change nothing.

The same findings as resync (`adapter.resync.diff`), computed from reads only; every
finding with a problem is drift: `missing remotely`, `different: …`, `closed remotely but
open here`, `unknown remote item carrying our reference`, `not linked here`, ….
A case whose remote cannot be read is counted in `unreadable` (and listed as drift): that
is an operational failure, not drift.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adapter.metrics import Metrics
from adapter.resync.converge import BATCH, analyse_cases, case_keys, finding_json
from adapter.store.records import CaseKey
from adapter.wiring.runtime import Runtime

__all__ = ["ReconcileReport", "reconcile", "record_drift"]


@dataclass
class ReconcileReport:
    """The contract's `reconcile --json` object."""

    cases: int = 0
    drift: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0

    def as_json(self) -> dict[str, Any]:
        """`{"cases": n, "drift": [{"tenant", "case_id", "kind", "item", "problem"}]}`."""
        return {"cases": self.cases, "drift": self.drift}


async def reconcile(rt: Runtime, keys: Sequence[CaseKey] | None = None) -> ReconcileReport:
    """Compare every case (or `keys`) with the remote systems; reads only."""
    chosen = list(keys) if keys is not None else await case_keys(rt.store)
    report = ReconcileReport()
    for start in range(0, len(chosen), BATCH):
        for diff in await analyse_cases(rt, chosen[start : start + BATCH]):
            report.cases += 1
            report.unreadable += diff.unreadable
            report.drift.extend(finding_json(diff, f) for f in diff.drift)
    return report


def record_drift(metrics: Metrics, report: ReconcileReport) -> None:
    """Set the drift gauge (tenant, kind) from a report; kinds no longer drifting go away."""
    metrics.drift.clear()
    counts = Counter((d["tenant"], d["kind"]) for d in report.drift)
    for (tenant, kind), n in counts.items():
        metrics.drift.labels(tenant, kind).set(n)
