"""The inbox hands doors' events to the store port, and turns validation errors into rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from adapter.errors import RejectedInput
from adapter.intake import Inbox
from adapter.store import EventSource, InboundEvent, InsertOutcome, RejectedRecord


class FakeSink:
    """An in-memory event sink: idempotent by event_id, conflict on other content."""

    def __init__(self) -> None:
        self.events: dict[str, InboundEvent] = {}
        self.rejected: list[RejectedRecord] = []

    async def insert_event(self, rec: InboundEvent) -> InsertOutcome:
        known = self.events.get(rec.event_id)
        if known is None:
            self.events[rec.event_id] = rec
            return InsertOutcome.ACCEPTED
        if known.content_hash == rec.content_hash:
            return InsertOutcome.DUPLICATE
        return InsertOutcome.CONFLICT

    async def insert_events(self, recs: Sequence[InboundEvent]) -> list[InsertOutcome]:
        return [await self.insert_event(rec) for rec in recs]

    async def insert_rejected(self, rec: RejectedRecord) -> int:
        self.rejected.append(rec)
        return len(self.rejected)

    async def conflict_field(self, rec: InboundEvent) -> str | None:
        known = self.events.get(rec.event_id)
        return "event_id" if known is not None and known.content_hash != rec.content_hash else None


def event(content_hash: str = "h1") -> InboundEvent:
    return InboundEvent(
        event_id="0b9f1c1e-5d7e-4d38-9a51-2f4f7f3c1a10",
        tenant="modum",
        case_id="BTI-2026-0042",
        sequence=7,
        type="goal.set",
        occurred_at=datetime(2026, 11, 2, 9, 15, tzinfo=UTC),
        payload="{}",
        content_hash=content_hash,
        source=EventSource.PUSH,
    )


async def test_accept_reports_the_stores_outcome() -> None:
    """accept passes each event to the store and returns accepted, duplicate or conflict."""
    sink = FakeSink()
    inbox = Inbox(sink)
    assert await inbox.accept(event()) is InsertOutcome.ACCEPTED
    assert await inbox.accept(event()) is InsertOutcome.DUPLICATE
    assert await inbox.accept(event("h2")) is InsertOutcome.CONFLICT
    assert list(sink.events) == [event().event_id]


async def test_reject_input_keeps_message_field_id_and_line() -> None:
    """A validation error is stored with its message, field, event_id, line and raw text."""
    sink = FakeSink()
    error = RejectedInput("unknown event type", field="type", event_id="e-1", line=4)
    await Inbox(sink).reject_input(
        error, payload='{"type": "x"}', source=EventSource.FILE, source_ref="a.jsonl"
    )
    [row] = sink.rejected
    assert (row.reason, row.field, row.event_id, row.line) == (
        "unknown event type",
        "type",
        "e-1",
        4,
    )
    assert (row.payload, row.source, row.source_ref) == (
        '{"type": "x"}',
        EventSource.FILE,
        "a.jsonl",
    )


async def test_accept_many_reports_each_outcome_in_order() -> None:
    """A batch (a file's lines) gets one outcome per event, judged in order."""
    inbox = Inbox(FakeSink())
    assert await inbox.accept_many([event(), event(), event("h2")]) == [
        InsertOutcome.ACCEPTED,
        InsertOutcome.DUPLICATE,
        InsertOutcome.CONFLICT,
    ]
