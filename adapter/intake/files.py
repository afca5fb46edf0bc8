"""The file door: `stafett ingest FILE.jsonl`, one event a line, for operators and migrations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from adapter.events import RulesLookup
from adapter.intake.inbox import Inbox
from adapter.intake.receive import Prepared, Receipt, ReceiptOutcome, prepare_text, store_prepared
from adapter.nin import mask_nins
from adapter.store.states import EventSource

__all__ = ["BATCH_LINES", "IngestReport", "ingest_file"]


@dataclass(frozen=True)
class IngestReport:
    """What one file's lines became."""

    receipts: tuple[Receipt, ...]

    def count(self, outcome: ReceiptOutcome) -> int:
        """How many lines had `outcome`."""
        return Counter(r.outcome for r in self.receipts)[outcome]

    @property
    def rejections(self) -> tuple[Receipt, ...]:
        """The refused lines, in file order."""
        return tuple(r for r in self.receipts if r.outcome is ReceiptOutcome.REJECTED)

    def as_json(self) -> dict[str, object]:
        """The contract's `ingest --json` object."""
        return {
            "accepted": self.count(ReceiptOutcome.ACCEPTED),
            "duplicate": self.count(ReceiptOutcome.DUPLICATE),
            "rejected": self.count(ReceiptOutcome.REJECTED),
            "rejections": [
                {"line": r.line, "event_id": r.event_id, "field": r.field, "message": r.message}
                for r in self.rejections
            ],
        }


BATCH_LINES = 500
"""Valid lines stored per transaction: a crash loses at most an uncommitted batch, which
the same file ingested again stores (idempotent by event_id); nothing is stored twice."""


async def ingest_file(path: Path, *, inbox: Inbox, rules: RulesLookup) -> IngestReport:
    """Validate and store every non-blank line of `path`, `BATCH_LINES` per transaction.

    Lines are read as bytes so that a line that is not UTF-8 is refused on its own
    instead of stopping the file.
    """
    source_ref = _shown_name(path)
    receipts: list[Receipt] = []
    batch: list[Prepared] = []

    async def flush() -> None:
        receipts.extend(
            await store_prepared(batch, inbox=inbox, source=EventSource.FILE, source_ref=source_ref)
        )
        batch.clear()

    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            batch.append(
                prepare_text(
                    line.rstrip(b"\r\n"),
                    rules=rules,
                    source=EventSource.FILE,
                    source_ref=source_ref,
                    line=number,
                )
            )
            if len(batch) >= BATCH_LINES:
                await flush()
    await flush()
    return IngestReport(tuple(receipts))


def _shown_name(path: Path) -> str:
    """The file name as stored with each line: valid UTF-8, a nin-shaped part masked."""
    return mask_nins(path.name.encode("utf-8", "backslashreplace").decode("utf-8"))
