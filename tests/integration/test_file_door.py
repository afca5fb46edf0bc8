"""The file door on a real store (SQLite and PostgreSQL): idempotent, every bad line kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adapter.events import RulesLookup
from adapter.intake.files import ingest_file
from adapter.intake.inbox import Inbox
from adapter.intake.receive import ReceiptOutcome
from adapter.settings import load_settings
from adapter.store import Store
from adapter.store.states import EventState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.toml"
EXPECTED_BAD_FIELDS = {
    1: "data.title",
    2: "sequence",
    3: "type",
    4: "data.guardians.0.address",
    5: "data.nin",
    6: "tenant",
    7: "<json>",
    8: "schema_version",
    9: "data.step",
    10: "data.accepted_at",
    11: "data.responsible_participant_id",
    12: "type",
    13: "<json>",
    14: "event_id",
}


@pytest.fixture
def rules() -> RulesLookup:
    """The demo tenants' validation rules (synthetic nins accepted)."""
    settings = load_settings(DEMO)
    return settings.tenants.get


def _lines(name: str) -> int:
    return sum(1 for line in (EXAMPLES / name).read_text().splitlines() if line.strip())


async def test_example_streams_are_accepted_once(store: Store, rules: RulesLookup) -> None:
    """Both example streams are stored; ingesting them again adds nothing."""
    inbox = Inbox(store)
    for name in ("modum.jsonl", "vardo.jsonl"):
        first = await ingest_file(EXAMPLES / name, inbox=inbox, rules=rules)
        assert first.count(ReceiptOutcome.ACCEPTED) == _lines(name)
        assert not first.rejections
    before = await store.count_events_by_state()
    for name in ("modum.jsonl", "vardo.jsonl"):
        again = await ingest_file(EXAMPLES / name, inbox=inbox, rules=rules)
        assert again.count(ReceiptOutcome.DUPLICATE) == _lines(name)
    assert await store.count_events_by_state() == before


async def test_bad_lines_are_each_rejected_and_stored_once(
    store: Store, rules: RulesLookup
) -> None:
    """Every bad.jsonl line is rejected naming its line and field, and stored only once."""
    inbox = Inbox(store)
    await ingest_file(EXAMPLES / "modum.jsonl", inbox=inbox, rules=rules)
    report = await ingest_file(EXAMPLES / "bad.jsonl", inbox=inbox, rules=rules)
    got = {r.line: r.field for r in report.rejections}
    assert got == EXPECTED_BAD_FIELDS
    for r in report.rejections:
        assert r.message is not None and f"line {r.line}" in r.message
    stored = await store.list_events(EventState.REJECTED, limit=1000)
    assert len(stored) == len(EXPECTED_BAD_FIELDS)
    await ingest_file(EXAMPLES / "bad.jsonl", inbox=inbox, rules=rules)
    assert len(await store.list_events(EventState.REJECTED, limit=1000)) == len(stored)


async def test_no_nin_in_any_rejection_message(store: Store, rules: RulesLookup) -> None:
    """No 11-digit number appears in the ingest report of bad.jsonl."""
    report = await ingest_file(EXAMPLES / "bad.jsonl", inbox=Inbox(store), rules=rules)
    text = json.dumps(report.as_json())
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", text)
