"""The planning step on the in-memory store: the example stream planned into the outbox,
all or nothing per case, and a case planned elsewhere meanwhile left for the next pass."""

from __future__ import annotations

from pathlib import Path

from adapter.cli.demo import load_examples
from adapter.intake.inbox import Inbox
from adapter.intake.receive import ReceiptOutcome, receive_object
from adapter.jobs.plan_step import plan_pending
from adapter.planning import CaseState
from adapter.settings import TenantConfig
from adapter.store.memory import MemoryCases, MemoryStore
from adapter.store.records import CaseRecord, PlanCommit
from adapter.store.states import EventSource, EventState
from adapter.wiring.rules import planning_rules
from tests.support.clock import FakeClock
from tests.support.stored_events import demo_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
SETTINGS = demo_settings("sqlite+aiosqlite:///unused.db")
RULES = {key: planning_rules(t) for key, t in SETTINGS.tenants.items()}


def _lookup(key: str) -> TenantConfig | None:
    return SETTINGS.tenants.get(key)


async def _with_modum_stream(store: MemoryStore) -> int:
    """Store Modum's example stream through the inbox, as a door would; how many."""
    raws = [e for e in load_examples(EXAMPLES) if e["tenant"] == "modum"]
    inbox = Inbox(store.events)
    for raw in raws:
        receipt = await receive_object(
            raw, inbox=inbox, rules=_lookup, source=EventSource.FILE, source_ref="test"
        )
        assert receipt.outcome is ReceiptOutcome.ACCEPTED, receipt.message
    return len(raws)


async def test_the_example_stream_is_planned_into_the_outbox_once() -> None:
    """Every event of the stream is decided (planned, held or rejected: none left accepted),
    operations wait in the outbox, and a second pass finds nothing to do."""
    store = MemoryStore(FakeClock())
    stored = await _with_modum_stream(store)
    report = await plan_pending(store, RULES, _lookup)
    decided = report.events_planned + report.events_held + report.events_rejected
    assert (report.cases, decided, report.conflicts) == (1, stored, 0)
    assert report.operations > 0
    [case] = await store.cases.list_cases()
    ops = await store.outbox.operations_for_case(case.tenant, case.case_id)
    assert len(ops) == report.operations
    assert await store.events.cases_with_events((EventState.ACCEPTED,)) == []
    again = await plan_pending(store, RULES, _lookup)
    assert (again.cases, again.operations) == (0, 0)


class _PlannedElsewhere(MemoryCases):
    """Cases where another replica commits the case right after this one loads it (once)."""

    raced = False

    async def load_case(self, tenant: str, case_id: str) -> CaseRecord | None:
        loaded = await super().load_case(tenant, case_id)
        if not self.raced:
            self.raced = True
            await self.commit_plan(
                PlanCommit(
                    tenant=tenant,
                    case_id=case_id,
                    expected_version=None if loaded is None else loaded.version,
                    state=CaseState(tenant=tenant, case_id=case_id).model_dump_json(),
                    last_sequence_planned=0,
                )
            )
        return loaded


async def test_a_case_planned_elsewhere_meanwhile_is_left_whole_for_the_next_pass() -> None:
    """The other replica's commit wins: this step writes nothing (events stay accepted, no
    operation) and counts a conflict; the next pass plans the case from the new state."""
    clock = FakeClock()
    store = MemoryStore(clock)
    store.cases = _PlannedElsewhere(clock, store.events, store.outbox)
    await _with_modum_stream(store)

    first = await plan_pending(store, RULES, _lookup)
    assert (first.conflicts, first.cases, first.operations) == (1, 0, 0)
    [case] = await store.events.cases_with_events((EventState.ACCEPTED,))
    assert await store.outbox.operations_for_case(case.tenant, case.case_id) == []

    second = await plan_pending(store, RULES, _lookup)
    assert (second.conflicts, second.cases) == (0, 1)
    assert second.operations > 0
