"""The retention job: a closed case's personal data goes once its tenant's time has passed.

Domain rule 8. A case closed at `closed_at` (the `case.closed` event's time) is purged on
the first run after `closed_at + retention_days` of its tenant, provided nothing of it still
waits to be sent; see `adapter.store.retention_repo` for what is kept. Each purge is one
transaction with its audit row (actor `service`), so a crash purges a case wholly or not.

Rejected and held events are cut to their ids `rejected_retention_days` after they arrived,
whatever they name: an unparseable line or an unknown tenant's event is judged by the
shortest setting of any tenant (events.md, "Closing, late minutes, reopening").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from adapter.logs import get_logger
from adapter.planning import CaseState
from adapter.settings import Settings
from adapter.store.audit_repo import Actor
from adapter.store.store import Store
from adapter.wiring.runtime import Runtime

__all__ = ["Retention", "RetentionReport", "purge_expired_cases"]

log = get_logger(__name__)

_SERVICE = Actor("service", "retention time after closing has passed")
_STALE = Actor("service", "retention time of rejected and held events has passed")


@dataclass
class RetentionReport:
    """What one run of the retention job did."""

    purged: int = 0
    waiting: int = 0  # due, but an operation of the case is unfinished
    rejected_cut: int = 0
    held_cut: int = 0


async def purge_expired_cases(store: Store, settings: Settings, now: datetime) -> RetentionReport:
    """Purge every closed case whose tenant's retention time has passed by `now`, and cut
    stale rejected and held events to their ids."""
    report = RetentionReport()
    await _cut_stale_events(store, settings, now, report)
    for record in await store.retention.closed_unpurged_cases():
        tenant = settings.tenants.get(record.tenant)
        if tenant is None or record.closed_at is None:
            continue  # an unconfigured tenant's data is nobody's to judge here
        if record.closed_at + timedelta(days=tenant.retention_days) > now:
            continue
        state = CaseState.model_validate_json(record.state).purged_copy()
        outcome = await store.retention.purge_case(
            record, state=state.model_dump_json(), actor=_SERVICE
        )
        if outcome is None:
            report.waiting += 1
            continue
        report.purged += 1
        log.info(
            "case purged",
            tenant=record.tenant,
            case=record.case_id,
            events=outcome.events,
            operations=outcome.operations,
        )
    return report


async def _cut_stale_events(
    store: Store, settings: Settings, now: datetime, report: RetentionReport
) -> None:
    cutoffs = {
        key: now - timedelta(days=t.rejected_retention_days) for key, t in settings.tenants.items()
    }
    shortest = min(t.rejected_retention_days for t in settings.tenants.values())
    outcome = await store.retention.cut_stale_events(
        cutoffs, default_cutoff=now - timedelta(days=shortest), actor=_STALE
    )
    report.rejected_cut = sum(outcome.rejected.values())
    report.held_cut = sum(outcome.held.values())
    if report.rejected_cut or report.held_cut:
        log.info(
            "stale events cut to their ids",
            rejected=report.rejected_cut,
            held=report.held_cut,
        )


class Retention:
    """The `retention` job (one replica at a time)."""

    name = "retention"
    singleton = True

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def run(self) -> RetentionReport:
        """Purge the personal data of closed cases whose retention time has passed (and cut
        stale rejected and held events to their ids)."""
        report = await purge_expired_cases(self._rt.store, self._rt.settings, self._rt.clock())
        if report.purged or report.waiting:
            log.info("retention", purged=report.purged, waiting=report.waiting)
        return report
