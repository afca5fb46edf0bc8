"""The inbox: where every door (feed, push, file) hands over events. Doors never touch SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapter.errors import RejectedInput
from adapter.store.records import InboundEvent, RejectedRecord
from adapter.store.states import EventSource, InsertOutcome

__all__ = ["CONFLICT_MESSAGE", "EventSink", "Inbox"]

CONFLICT_MESSAGE = (
    "conflict: the same event_id (or the case's sequence) was stored before with other "
    "content; see 'stafett events rejected'"
)


class EventSink(Protocol):
    """What the inbox needs from the store (`adapter.store.Store` is one; tests use a fake)."""

    async def insert_event(self, rec: InboundEvent) -> InsertOutcome: ...

    async def insert_events(self, recs: Sequence[InboundEvent]) -> list[InsertOutcome]: ...

    async def insert_rejected(self, rec: RejectedRecord) -> int: ...

    async def conflict_field(self, rec: InboundEvent) -> str | None: ...


class Inbox:
    """Stores events durably before a door acknowledges them.

    `accept` is idempotent by `event_id`; a conflict is stored as a rejected row (with the
    field and reason) by the store itself, in the same transaction, and reported as
    ``InsertOutcome.CONFLICT``; `conflict_field` then tells the door which field clashed.
    """

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink

    async def accept(self, rec: InboundEvent) -> InsertOutcome:
        """Store a validated event: accepted, duplicate (no-op) or conflict (stored rejected)."""
        return await self._sink.insert_event(rec)

    async def accept_many(self, recs: Sequence[InboundEvent]) -> list[InsertOutcome]:
        """`accept` for many events in one transaction; their outcomes, in order."""
        return await self._sink.insert_events(recs)

    async def conflict_field(self, rec: InboundEvent) -> str:
        """The field an event that came back ``CONFLICT`` conflicts on: `event_id` or `sequence`."""
        return await self._sink.conflict_field(rec) or "event_id"

    async def reject(self, rec: RejectedRecord) -> None:
        """Store refused input with its reason, so that nothing vanishes without a trace."""
        await self._sink.insert_rejected(rec)

    async def reject_input(
        self,
        error: RejectedInput,
        *,
        payload: str,
        source: EventSource,
        source_ref: str | None = None,
        tenant: str | None = None,
        case_id: str | None = None,
    ) -> None:
        """Store a validation error (its message, field, event_id and line) as a rejected row."""
        await self.reject(
            RejectedRecord(
                reason=error.message,
                field=error.field,
                event_id=error.event_id,
                line=error.line,
                payload=payload,
                source=source,
                source_ref=source_ref,
                tenant=tenant,
                case_id=case_id,
            )
        )
