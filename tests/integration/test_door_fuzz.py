"""Property: whatever a line holds, the file door keeps exactly one row for it and goes on.

Lines are arbitrary bytes, arbitrary JSON, and the example events with one part replaced
by arbitrary JSON (huge numbers, odd keys, deep nesting, NUL and lone surrogates among
them), on a real store of each backend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from adapter.events import RulesLookup
from adapter.intake.files import ingest_file
from adapter.intake.inbox import Inbox
from adapter.settings import load_settings
from adapter.store import Store
from adapter.store.tables import events

ROOT = Path(__file__).resolve().parents[2]
MODUM = [
    json.loads(line)
    for line in (ROOT / "examples" / "events" / "modum.jsonl").read_text("utf-8").splitlines()
]
RULES: RulesLookup = load_settings(ROOT / "config" / "demo.toml").tenants.get

_nasty_text = st.sampled_from(
    ["\x00", "\ud800", "14831651238", "Emma Haugen", "x" * 300, "", " ", "\ufeff"]
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**20, -(10**20), 2**63, 0, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | _nasty_text
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | _nasty_text, inner, max_size=4)
    ),
    max_leaves=16,
)
_ENVELOPE = ("event_id", "schema_version", "tenant", "case_id", "sequence", "occurred_at")
_keys = st.sampled_from([*_ENVELOPE, "type", "actor", "data"])


@st.composite
def _mutated_event(draw: st.DrawFn) -> bytes:
    raw: dict[str, Any] = dict(draw(st.sampled_from(MODUM)))
    key = draw(_keys | st.text(max_size=300) | _nasty_text)
    raw[key] = draw(_json)
    return json.dumps(raw, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


_lines = (
    st.binary(max_size=300).map(lambda b: b.replace(b"\n", b" "))
    | _json.map(lambda v: json.dumps(v).encode())
    | _mutated_event()
    | st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n)
)


async def _row_count(store: Store) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(line=_lines)
async def test_any_line_becomes_exactly_one_row_and_never_an_exception(
    store: Store, tmp_path: Path, line: bytes
) -> None:
    """One non-blank line → one receipt and one stored row (accepted or rejected)."""
    async with store.engine.begin() as conn:
        await conn.execute(delete(events))
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(line + b"\n")
    report = await ingest_file(path, inbox=Inbox(store.events), rules=RULES)
    expected = 1 if line.strip() else 0
    assert report.lines == expected
    assert await _row_count(store) == expected
