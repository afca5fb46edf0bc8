"""Minutes by `document_ref`, through the engine: fetched with the feed's key and archived,
or refused (an origin not allowed, over size, checksum mismatch — also of inline minutes —,
not a PDF) by parking that one operation — holding back only the rest of that case's archive
work."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from adapter.store import Store
from adapter.store.states import OperationState, Target
from tests.integration.conftest import FakeClock
from tests.integration.test_archive_support import (
    PDFA,
    PLAIN,
    Engine,
    clone_case,
    demo_settings,
    engine,
    examples,
    meeting,
    refer_minutes,
    sha,
)

MODUM = "stafett:modum:BTI-2026-0042"
OTHER_CASE = "BTI-2026-0099"
DOCS = "/internal/v1/documents/"


def _document_gets(state: dict[str, object], doc_id: str) -> list[int | None]:
    requests = state["requests"]
    assert isinstance(requests, list)
    return [r["status"] for r in requests if r["method"] == "GET" and r["path"] == DOCS + doc_id]


def _remarks(state: dict[str, object]) -> set[str]:
    p360 = state["p360"]
    assert isinstance(p360, dict)
    return {r["Content"] for d in p360["documents"] for r in d["Remarks"]}


async def test_document_ref_is_fetched_with_the_feed_key_and_archived(
    store: Store, clock: FakeClock
) -> None:
    """A document_ref on the internal system is fetched (with the feed's key) and archived
    with its bytes intact and the right VersionFormat."""
    events = examples("modum")
    async with engine(store, clock) as e:
        url_a = await e.document("m5-minutes", PDFA)
        url_p = await e.document("m6-minutes", PLAIN)
        refer_minutes(meeting(events, "modum", "M5"), url_a, sha(PDFA))
        refer_minutes(meeting(events, "modum", "M6"), url_p, sha(PLAIN))
        await e.feed(events)
        report = await e.run()
        state = await e.state()
    assert report.operations_pending == 0
    assert report.parked_cases == 0
    assert _document_gets(state, "m5-minutes") == [200]  # 401 without the feed's key
    assert _document_gets(state, "m6-minutes") == [200]
    files = {r["Content"]: d["Files"][0] for d in state["p360"]["documents"] for r in d["Remarks"]}
    assert files[f"{MODUM}:minutes:M5"]["sha256"] == sha(PDFA)
    assert files[f"{MODUM}:minutes:M5"]["VersionFormat"] == "A"
    assert files[f"{MODUM}:minutes:M6"]["sha256"] == sha(PLAIN)
    assert files[f"{MODUM}:minutes:M6"]["VersionFormat"] == "P"


@dataclass(frozen=True)
class Refusal:
    """One way a referenced document is refused, and the reason the operator reads."""

    name: str
    reason: str
    max_bytes: int | None = None


REFUSALS = [
    Refusal("wrong-host", "document_origins"),
    Refusal("over-size", "over size", max_bytes=20_000),
    Refusal("checksum", "checksum mismatch"),
    Refusal("inline-checksum", "checksum mismatch"),
    Refusal("not-pdf", "not a PDF"),
]


async def _refer_badly(e: Engine, refusal: Refusal) -> tuple[str, str]:
    """(url, sha256) of M5's minutes, wrong in the way `refusal` names."""
    if refusal.name == "wrong-host":
        good = await e.document("m5-minutes", PDFA)
        return good.replace("http://mock/", "http://files.example.net/"), sha(PDFA)
    if refusal.name == "over-size":
        big = PDFA + b"%" + b" " * (20_000 - len(PDFA)) + b"\n"  # still a valid PDF
        assert len(big) > 20_000
        return await e.document("m5-minutes", big), sha(big)
    if refusal.name == "checksum":
        return await e.document("m5-minutes", PDFA), sha(PLAIN)
    junk = b"%PDF-1.7\nthis is no PDF at all\n%%EOF\n"
    return await e.document("m5-minutes", junk), sha(junk)


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.name for r in REFUSALS])
async def test_a_refused_document_parks_only_its_operation(
    store: Store, clock: FakeClock, refusal: Refusal
) -> None:
    """A refused document parks its CREATE_DOCUMENT with a clear reason; the case's later
    archive work waits, its Samspill work flows on, another case archives fine."""
    env = {}
    if refusal.max_bytes is not None:
        env["STAFETT_TENANTS__MODUM__ARCHIVE__MAX_DOCUMENT_BYTES"] = str(refusal.max_bytes)
    events = examples("modum")
    other = clone_case([ev for ev in events if ev["sequence"] <= 6], OTHER_CASE)  # M1, level 0
    async with engine(store, clock, demo_settings(**env)) as e:
        if refusal.name == "inline-checksum":  # the content inline, its sha256 another's
            meeting(events, "modum", "M5")["data"]["minutes"]["sha256"] = sha(b"other bytes")
        else:
            url, digest = await _refer_badly(e, refusal)
            refer_minutes(meeting(events, "modum", "M5"), url, digest)
        refer_minutes(other[-1], await e.document("other-m1", PLAIN), sha(PLAIN))
        await e.feed(events + other)
        report = await e.run()
        state = await e.state()
        parked = await e.rt.store.outbox.list_parked()
        ops = {op.op_ref: op for op in await e.operations("modum")}
        other_ops = await e.operations("modum", OTHER_CASE)

    # exactly the one operation parks, with a reason an operator understands
    assert [p.op_ref for p in parked] == [f"{MODUM}:minutes:M5"]
    reason = parked[0].reason or ""
    assert refusal.reason in reason
    assert DOCS not in reason  # the host and the rule, never the URL's path
    assert report.parked_cases == 1
    if refusal.name == "wrong-host":
        assert _document_gets(state, "m5-minutes") == []  # refused without a request

    # the same case: archive work after it waits; Samspill work flows on, but for the
    # "minutes archived" lines of the documents not in yet, and the plan's close after them
    waiting = {f"{MODUM}:log:minutes-M5", f"{MODUM}:log:minutes-M6", f"{MODUM}:plan:stafettlogg#57"}
    for ref, op in ops.items():
        if op.target is Target.P360 and op.seq > ops[f"{MODUM}:minutes:M5"].seq:
            assert op.state is OperationState.PENDING, ref
        elif op.target is Target.SAMSPILL:
            expected = OperationState.PENDING if ref in waiting else OperationState.DONE
            assert op.state is expected, ref
    [plan] = state["samspill"]["plans"]
    assert plan["status"] == "active"
    assert [len(plan[k]) for k in ("goals", "measures", "responsibilities")] == [2, 2, 2]
    assert [c["status"] for c in plan["calendar"] if c["externalReference"].endswith("M5")] == [
        "held"
    ]
    archived = _remarks(state)
    assert {f"{MODUM}:minutes:M{n}" for n in (1, 2, 3)} <= archived
    assert not {f"{MODUM}:minutes:M5", f"{MODUM}:minutes:M6"} & archived
    [modum_case] = [
        c for c in state["p360"]["cases"] if c["ExternalId"]["Id"] == "modum:BTI-2026-0042"
    ]
    assert modum_case["Status"] == "B"  # not closed while its minutes are missing

    # another case of the same tenant archives its referenced minutes
    assert {op.state for op in other_ops} == {OperationState.DONE}
    assert f"stafett:modum:{OTHER_CASE}:minutes:M1" in archived
    assert _document_gets(state, "other-m1") == [200]
