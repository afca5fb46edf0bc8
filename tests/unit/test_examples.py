"""examples/events: the demo streams parse, cover every type, and bad.jsonl fails as documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapter.errors import RejectedInput
from adapter.events import (
    EXTERNAL_EVENT_TYPES,
    CaseOpenedData,
    Event,
    EventType,
    MeetingHeldData,
    StepEnteredData,
    content_hash,
    parse_event,
    parse_line,
)
from adapter.nin import NIN_PATTERN, is_synthetic, validate_nin
from adapter.profiles import Profile, get_profile
from adapter.targets.pdf import declares_pdfa, is_pdf
from tests.support.real_nins import looks_real, real_looking_nins

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
MINUTES = EXAMPLES.parent / "minutes"
GOOD = ("modum", "vardo")
OSLO = ZoneInfo("Europe/Oslo")


@dataclass(frozen=True)
class Rules:
    """A stub tenant: what `TenantRules` asks for."""

    accept_synthetic_nin: bool
    profile_obj: Profile


def demo_rules(tenant: str) -> Rules | None:
    """Like the demo config: both seed tenants accept synthetic nins."""
    return Rules(True, get_profile(tenant)) if tenant in ("modum", "vardo") else None


def lines_of(name: str) -> list[bytes]:
    return (EXAMPLES / f"{name}.jsonl").read_bytes().splitlines()


def stream(name: str) -> list[Event]:
    return [
        parse_line(line, line_no=n, rules=demo_rules) for n, line in enumerate(lines_of(name), 1)
    ]


def _without_minutes_content(text: str) -> str:
    """`text` with the minutes' base64 and sha256 blanked: they may hold 11-digit runs that
    are no nin."""
    text = re.sub(r'"content_base64": "[A-Za-z0-9+/=]*"', '"content_base64": ""', text)
    return re.sub(r'"sha256": "[0-9a-f]{64}"', '"sha256": ""', text)


def bad_table() -> list[tuple[int, str]]:
    """(line, field) rows of the table in examples/events/README.md, conflict row excluded."""
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| `([^`]+)` \|", text, flags=re.MULTILINE)
    return [(int(line), field) for line, field in rows]


@pytest.mark.parametrize("name", GOOD)
def test_every_line_parses_in_order(name: str) -> None:
    """Each demo stream parses, is one case of its tenant, numbered 1..n without gaps."""
    events = stream(name)
    assert {e.tenant for e in events} == {name}
    assert len({e.case_id for e in events}) == 1
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert len({e.event_id for e in events}) == len(events)
    assert events[0].type is EventType.CASE_OPENED
    assert events[-1].type is EventType.CASE_CLOSED


@pytest.mark.parametrize("name", GOOD)
def test_times_are_2026_with_oslo_offsets(name: str) -> None:
    """occurred_at lies in 2026 and carries the Oslo offset of its date (+01:00 / +02:00)."""
    for e in stream(name):
        assert e.occurred_at.year == 2026
        assert e.occurred_at.utcoffset() == e.occurred_at.astimezone(OSLO).utcoffset()
    times = [e.occurred_at for e in stream(name)]
    assert times == sorted(times)


def test_the_streams_cover_every_external_type() -> None:
    """Together modum.jsonl and vardo.jsonl use every external event type."""
    used = Counter(e.type for name in GOOD for e in stream(name))
    assert set(used) == set(EXTERNAL_EVENT_TYPES)


def test_bti_flow_reaches_the_plan_step() -> None:
    """Each stream enters its profile's create_plan_at step after starting at level 0."""
    for name in GOOD:
        profile = get_profile(name)
        events = stream(name)
        steps = [(e.data.level, e.data.step) for e in events if isinstance(e.data, StepEnteredData)]
        assert profile.create_plan_at in steps
        first = events[0].data
        assert isinstance(first, CaseOpenedData)
        assert first.level == 0


@pytest.mark.parametrize("name", GOOD)
def test_round_trip_of_every_example(name: str) -> None:
    """Every example event survives model_dump_json and parse_event unchanged."""
    for e in stream(name):
        assert parse_event(json.loads(e.model_dump_json()), rules=demo_rules) == e


@pytest.mark.parametrize("name", [*GOOD, "bad"])
def test_only_synthetic_nins(name: str) -> None:
    """Every nin-shaped number in the examples is a valid Tenor synthetic number, or a
    deliberately broken one in bad.jsonl."""
    text = _without_minutes_content((EXAMPLES / f"{name}.jsonl").read_text(encoding="utf-8"))
    found = NIN_PATTERN.findall(text)
    assert found
    for nin in found:
        assert is_synthetic(nin)
        if name != "bad":
            assert validate_nin(nin, accept_synthetic=True) == nin


def test_no_real_looking_nin_in_the_examples_or_the_test_data() -> None:
    """No example stream, test module or test data file holds a real-looking nin."""
    root = EXAMPLES.parents[1]
    files = [
        *EXAMPLES.glob("*"),
        *(root / "tests").rglob("*.py"),
        *(root / "tests").rglob("*.json"),
    ]
    assert real_looking_nins(sorted(p for p in files if p.is_file())) == []


def test_the_real_nin_check_can_fail() -> None:
    """A number with valid check digits and a real date is flagged; Tenor ones are not."""
    real_shaped = "010101" + "00050"  # built, so that no file of the repository holds it
    assert looks_real(real_shaped)
    assert not looks_real("14831651238")  # Tenor synthetic (month + 80)
    assert not looks_real(real_shaped[:10] + "1")  # a wrong check digit


def test_minutes_are_the_sample_pdfs_in_turn() -> None:
    """Every stream's minutes alternate PDF/A and plain sample bytes, which parse as PDFs."""
    pdfa = (MINUTES / "minutes-pdfa.pdf").read_bytes()
    plain = (MINUTES / "minutes-plain.pdf").read_bytes()
    assert declares_pdfa(pdfa)
    assert is_pdf(plain)
    assert not declares_pdfa(plain)
    for name in GOOD:
        held = [e.data for e in stream(name) if isinstance(e.data, MeetingHeldData)]
        assert len(held) >= 2
        contents = [data.minutes.content() for data in held]
        assert contents == [(pdfa, plain)[i % 2] for i in range(len(held))]


def test_embed_script_leaves_the_streams_unchanged() -> None:
    """examples/minutes/embed_minutes.py is idempotent: the committed streams are its output."""
    done = subprocess.run(
        [sys.executable, str(MINUTES / "embed_minutes.py"), "--check"],
        capture_output=True,
        check=False,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_readme_table_lists_every_bad_line() -> None:
    """The README table documents every bad.jsonl line except the final conflict pair."""
    assert [line for line, _ in bad_table()] == list(range(1, len(lines_of("bad")) - 1))


@pytest.mark.parametrize(("line_no", "field"), bad_table())
def test_bad_line_is_rejected_at_its_field(line_no: int, field: str) -> None:
    """Each bad.jsonl line (but the pair) is rejected naming the field the README promises."""
    line = lines_of("bad")[line_no - 1]
    with pytest.raises(RejectedInput) as info:
        parse_line(line, line_no=line_no, rules=demo_rules)
    assert info.value.field == field
    assert info.value.line == line_no
    assert NIN_PATTERN.search(str(info.value)) is None


def test_the_last_two_bad_lines_are_a_conflict_pair_of_their_own() -> None:
    """Lines 14 and 15 parse, share an event_id on a case no other stream uses, and differ
    in content: the file shows a conflict whatever was ingested before it."""
    *_, first_line, second_line = lines_of("bad")
    first = parse_line(first_line, line_no=14, rules=demo_rules)
    second = parse_line(second_line, line_no=15, rules=demo_rules)
    assert first.event_id == second.event_id
    assert content_hash(json.loads(first_line)) != content_hash(json.loads(second_line))
    other_cases = {e.case_id for name in GOOD for e in stream(name)}
    assert first.case_id not in other_cases
    other_ids = {e.event_id for name in GOOD for e in stream(name)}
    assert first.event_id not in other_ids
