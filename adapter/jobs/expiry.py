"""The expiry job: a consent ends on the day after its `valid_to`, even when no event comes.

Planning judges consents at each event's date, so a case that goes quiet would keep
sharing under a consent that has run out. This job finds the open cases whose planned
state still holds a consent granted past its (inclusive) `valid_to`, judged on the Oslo
date of now, and stores an internal `consent.expired` event for each (events.md "Order,
holds and time"). The planner then ends the consent like a withdrawal: the remote consent
becomes `expired` and the participants only it covered are removed.

The event is a pure function of the case and the consent, so any replica may run the job
any number of times and it is stored once:
- id: uuid5 of tenant, case and consent id;
- `occurred_at`: the first moment of the day after `valid_to`, Oslo time;
- `sequence`: the case's last planned sequence (it applies right after it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from adapter.events import EventType, RulesLookup, parse_event
from adapter.intake.receive import to_inbound
from adapter.logs import get_logger
from adapter.planning import CaseState
from adapter.planning.clock import OSLO, oslo_date
from adapter.planning.rules.consent import lapsed_consents
from adapter.planning.state import ConsentState
from adapter.store.states import EventSource, InsertOutcome
from adapter.store.store import Store
from adapter.wiring.runtime import Runtime

__all__ = ["EXPIRY_NAMESPACE", "Expiry", "ExpiryReport", "expiry_event", "store_expiries"]

log = get_logger(__name__)

EXPIRY_NAMESPACE = uuid.UUID("2f0c6d7e-5a51-4f5e-9d0a-6b3c1e0a7e11")
"""The uuid5 namespace of internal `consent.expired` event ids (fixed forever)."""

_ACTOR = {"name": "stafett", "service": "annet"}
"""The service itself is the actor of its internal events (no person)."""


@dataclass
class ExpiryReport:
    """What one run of the expiry job did."""

    cases_checked: int = 0
    stored: int = 0
    already_stored: int = 0


def expiry_event(state: CaseState, consent: ConsentState) -> dict[str, Any]:
    """The raw internal `consent.expired` event for `consent` of the case `state` holds."""
    assert consent.valid_to is not None
    day_after = consent.valid_to + timedelta(days=1)
    return {
        "event_id": str(
            uuid.uuid5(EXPIRY_NAMESPACE, f"{state.tenant}:{state.case_id}:{consent.consent_id}")
        ),
        "schema_version": 1,
        "tenant": state.tenant,
        "case_id": state.case_id,
        "sequence": max(state.last_sequence, 1),
        "occurred_at": datetime.combine(day_after, time(0, 0), tzinfo=OSLO).isoformat(),
        "type": EventType.CONSENT_EXPIRED.value,
        "actor": dict(_ACTOR),
        "data": {"consent_id": consent.consent_id},
    }


async def store_expiries(store: Store, lookup: RulesLookup, today: date) -> ExpiryReport:
    """Store a `consent.expired` event for every consent of an open case past its end."""
    report = ExpiryReport()
    for record in await store.cases.list_cases():
        if record.purged_at is not None:
            continue
        state = CaseState.model_validate_json(record.state)
        if not state.opened or state.closed or lookup(state.tenant) is None:
            continue
        report.cases_checked += 1
        lapsed = lapsed_consents(state, today)
        if not lapsed:
            continue
        stored_ids = {
            row.event_id for row in await store.events.events_for_case(state.tenant, state.case_id)
        }
        for consent in lapsed:
            raw = expiry_event(state, consent)
            if raw["event_id"] in stored_ids:
                report.already_stored += 1  # waits to be planned
                continue
            event = parse_event(raw, rules=lookup, allow_internal=True)
            rec = to_inbound(
                event, raw, source=EventSource.INTERNAL, source_ref="expiry", line=None
            )
            outcome = await store.events.insert_event(rec)
            if outcome is InsertOutcome.ACCEPTED:
                report.stored += 1
                log.info(
                    "consent expired",
                    tenant=state.tenant,
                    case=state.case_id,
                    consent=consent.consent_id,
                )
            else:
                report.already_stored += 1
    return report


class Expiry:
    """The `expiry` job (one replica at a time), judged on today's Oslo date."""

    name = "expiry"
    singleton = True

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def run(self) -> ExpiryReport:
        """Store a `consent.expired` event for every consent past its `valid_to` (Oslo)."""
        report = await store_expiries(self._rt.store, self._rt.lookup, oslo_date(self._rt.clock()))
        if report.stored:
            log.info("consents expired", events=report.stored)
        return report
