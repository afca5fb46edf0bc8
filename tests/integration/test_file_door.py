"""The file door on a real store (SQLite and PostgreSQL): idempotent, every bad line kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adapter.events import RulesLookup
from adapter.intake.files import BATCH_LINES, ingest_file
from adapter.intake.inbox import Inbox
from adapter.intake.receive import ReceiptOutcome
from adapter.settings import load_settings
from adapter.store import Store
from adapter.store.states import EventState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.toml"
CHILD_NIN = "14831651238"
NIN_OR_NAME = re.compile(rf"(?<!\d)\d{{11}}(?!\d)|Emma|Haugen|{CHILD_NIN[:6]}")
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
    15: "event_id",
}


@pytest.fixture
def rules() -> RulesLookup:
    """The demo tenants' validation rules (synthetic nins accepted)."""
    settings = load_settings(DEMO)
    return settings.tenants.get


def _lines_of(name: str) -> list[str]:
    return [line for line in (EXAMPLES / name).read_text().splitlines() if line.strip()]


def _lines(name: str) -> int:
    return sum(1 for line in (EXAMPLES / name).read_text().splitlines() if line.strip())


async def test_example_streams_are_accepted_once(store: Store, rules: RulesLookup) -> None:
    """Both example streams are stored; ingesting them again adds nothing."""
    inbox = Inbox(store.events)
    for name in ("modum.jsonl", "vardo.jsonl"):
        first = await ingest_file(EXAMPLES / name, inbox=inbox, rules=rules)
        assert first.count(ReceiptOutcome.ACCEPTED) == _lines(name)
        assert not first.rejections
    before = await store.events.count_events_by_state()
    for name in ("modum.jsonl", "vardo.jsonl"):
        again = await ingest_file(EXAMPLES / name, inbox=inbox, rules=rules)
        assert again.count(ReceiptOutcome.DUPLICATE) == _lines(name)
    assert await store.events.count_events_by_state() == before


@pytest.mark.parametrize("after_modum", [True, False], ids=["after-modum", "alone"])
async def test_bad_lines_are_each_rejected_and_stored_once(
    store: Store, rules: RulesLookup, after_modum: bool
) -> None:
    """Every bad.jsonl line is rejected naming its line and field, and stored only once,
    whether or not modum.jsonl was ingested first; only the pair's first half is accepted."""
    inbox = Inbox(store.events)
    if after_modum:
        await ingest_file(EXAMPLES / "modum.jsonl", inbox=inbox, rules=rules)
    report = await ingest_file(EXAMPLES / "bad.jsonl", inbox=inbox, rules=rules)
    got = {r.line: r.field for r in report.rejections}
    assert got == EXPECTED_BAD_FIELDS
    assert (report.count(ReceiptOutcome.ACCEPTED), report.lines) == (1, _lines("bad.jsonl"))
    for r in report.rejections:
        assert r.message is not None and f"line {r.line}" in r.message
    stored = await store.events.list_events(EventState.REJECTED, limit=1000)
    assert len(stored) == len(EXPECTED_BAD_FIELDS)
    await ingest_file(EXAMPLES / "bad.jsonl", inbox=inbox, rules=rules)
    assert len(await store.events.list_events(EventState.REJECTED, limit=1000)) == len(stored)
    modum_ids = {e["event_id"] for e in map(json.loads, _lines_of("modum.jsonl"))}
    accepted = await store.events.list_events(EventState.ACCEPTED, limit=1000)
    assert [e.case_id for e in accepted if e.event_id not in modum_ids] == ["BTI-2026-0099"]


async def test_no_nin_in_any_rejection_message(store: Store, rules: RulesLookup) -> None:
    """No 11-digit number appears in the ingest report of bad.jsonl."""
    report = await ingest_file(EXAMPLES / "bad.jsonl", inbox=Inbox(store.events), rules=rules)
    text = json.dumps(report.as_json())
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", text)


def _first_modum_event() -> dict[str, object]:
    line = (EXAMPLES / "modum.jsonl").read_text(encoding="utf-8").splitlines()[0]
    raw: dict[str, object] = json.loads(line)
    return raw


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


async def test_refused_lines_keep_no_name_or_nin_outside_the_payload(
    store: Store, rules: RulesLookup, tmp_path: Path
) -> None:
    """Ids that are a name or a nin are not kept beside the payload, nor reported."""
    raw = {
        **_first_modum_event(),
        "event_id": f"Emma Haugen {CHILD_NIN}",
        "tenant": "Emma Haugen",
        "case_id": CHILD_NIN,
        "type": "Emma Haugen",
        "sequence": "x",
    }
    nin_case = {**_first_modum_event(), "case_id": CHILD_NIN}
    lines = [json.dumps(raw).encode(), json.dumps(nin_case).encode()]
    report = await ingest_file(
        _write(tmp_path / "p.jsonl", lines), inbox=Inbox(store.events), rules=rules
    )
    assert [r.field for r in report.rejections] == ["event_id", "case_id"]
    assert not NIN_OR_NAME.search(json.dumps(report.as_json()))
    rows = await store.events.list_events(EventState.REJECTED, limit=10)
    assert [(r.event_id, r.tenant, r.case_id, r.type) for r in rows] == [
        (None, None, None, None),
        (str(nin_case["event_id"]), "modum", None, "case.opened"),
    ]
    for row in rows:
        assert not NIN_OR_NAME.search(f"{row.reason} {row.field}")


async def test_lines_that_broke_the_bookkeeping_are_each_kept_and_the_file_goes_on(
    store: Store, rules: RulesLookup, tmp_path: Path
) -> None:
    """A huge sequence, a 300-char key, 200 000 nested brackets, a NUL byte, a lone
    surrogate: each is one rejected row naming line and field; the valid line after them
    is stored."""
    base = _first_modum_event()
    lines = [
        json.dumps({**base, "sequence": 10**20}).encode(),
        json.dumps({**base, "x" * 300: 1}).encode(),
        b"[" * 200_000 + b"]" * 200_000,
        json.dumps(base).encode()[:-1] + b'\x00"}',
        json.dumps({**base, "actor": {"name": "\ud800", "service": "skole"}}).encode(),
        b'{"event_id": "a", "event_id": "b"}',
        json.dumps(base).encode(),
    ]
    report = await ingest_file(
        _write(tmp_path / "r.jsonl", lines), inbox=Inbox(store.events), rules=rules
    )
    assert [(r.line, r.field) for r in report.rejections] == [
        (1, "sequence"),
        (2, "<hidden>"),
        (3, "<json>"),
        (4, "<json>"),
        (5, "<json>"),
        (6, "<json>"),
    ]
    assert report.count(ReceiptOutcome.ACCEPTED) == 1
    rows = await store.events.list_events(EventState.REJECTED, limit=10)
    assert sorted(r.line for r in rows if r.line is not None) == [1, 2, 3, 4, 5, 6]
    assert [r.sequence for r in rows if r.line == 1] == [None]


async def test_a_conflict_names_the_field_the_store_recorded(
    store: Store, rules: RulesLookup, tmp_path: Path
) -> None:
    """Same id with other content → field event_id; a new id on a taken case sequence →
    field sequence; the report and the stored row agree."""
    base = _first_modum_event()
    await ingest_file(
        _write(tmp_path / "one.jsonl", [json.dumps(base).encode()]),
        inbox=Inbox(store.events),
        rules=rules,
    )
    other_content = {**base, "occurred_at": "2026-01-12T09:41:00+01:00"}
    other_id = {**base, "event_id": "0b9f1c1e-5d7e-4d38-9a51-2f4f7f3c1a10"}
    lines = [json.dumps(other_content).encode(), json.dumps(other_id).encode()]
    report = await ingest_file(
        _write(tmp_path / "two.jsonl", lines), inbox=Inbox(store.events), rules=rules
    )
    assert [(r.line, r.field) for r in report.rejections] == [(1, "event_id"), (2, "sequence")]
    assert report.rejections[1].message == (
        "line 2, event 0b9f1c1e-5d7e-4d38-9a51-2f4f7f3c1a10: sequence: conflict: the case's "
        "sequence already holds another event"
    )
    stored = await store.events.list_events(EventState.REJECTED, limit=10)
    assert [r.field for r in stored] == ["event_id", "sequence"]


async def test_a_file_longer_than_a_batch_keeps_every_line_and_its_order(
    store: Store, rules: RulesLookup, tmp_path: Path
) -> None:
    """Lines are stored in batches: across batch edges each line still gets exactly one
    outcome, a bad line its own row (named by its line), and a duplicate within the file is
    a no-op."""
    assert BATCH_LINES < 1200
    example = [json.loads(line) for line in _lines_of("modum.jsonl")]
    lines = []
    for n in range(1200 // len(example) + 1):  # copies of the Modum case, one case id each
        for event in example:
            copy = {**event, "case_id": f"BTI-COPY-{n:03}"}
            copy["event_id"] = f"{event['event_id'][:-3]}{n:03}"
            lines.append(json.dumps(copy, ensure_ascii=False))
    lines = lines[:1200]
    lines.insert(700, "{not json")
    lines.append(lines[3])  # the same event again, in another batch
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = await ingest_file(big, inbox=Inbox(store.events), rules=rules)
    assert report.lines == len(lines)
    assert [r.line for r in report.rejections] == [701]
    assert (
        report.count(ReceiptOutcome.ACCEPTED),
        report.count(ReceiptOutcome.DUPLICATE),
        report.count(ReceiptOutcome.REJECTED),
    ) == (1200, 1, 1)
    (refused,) = report.rejections
    assert (refused.line, refused.field) == (701, "<json>")
    counts = await store.events.count_events_by_state()
    assert (counts[EventState.ACCEPTED], counts[EventState.REJECTED]) == (1200, 1)
