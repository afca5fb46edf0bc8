"""The file door: `stafett ingest FILE.jsonl`, one event a line, for operators and migrations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
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
    """What one file's lines became: counts by outcome, and each refused line's receipt.

    Accepted and duplicate lines are only counted, so a file of millions of lines costs
    no more memory than one of a hundred (the refused ones are what an operator reads).
    """

    counts: Mapping[ReceiptOutcome, int]
    rejections: tuple[Receipt, ...]
    """The refused lines, in file order."""

    def count(self, outcome: ReceiptOutcome) -> int:
        """How many lines had `outcome`."""
        return self.counts.get(outcome, 0)

    @property
    def lines(self) -> int:
        """The non-blank lines read, each with exactly one outcome."""
        return sum(self.counts.values())

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


class _Tally:
    """Receipts counted as they come; refused ones kept."""

    def __init__(self) -> None:
        self._counts: Counter[ReceiptOutcome] = Counter()
        self._rejections: list[Receipt] = []

    def add(self, receipts: Iterable[Receipt]) -> None:
        for receipt in receipts:
            self._counts[receipt.outcome] += 1
            if receipt.outcome is ReceiptOutcome.REJECTED:
                self._rejections.append(receipt)

    def report(self) -> IngestReport:
        return IngestReport(dict(self._counts), tuple(self._rejections))


BATCH_LINES = 500
"""Valid lines stored per transaction: a crash loses at most an uncommitted batch, which
the same file ingested again stores (idempotent by event_id); nothing is stored twice."""


async def ingest_file(path: Path, *, inbox: Inbox, rules: RulesLookup) -> IngestReport:
    """Validate and store every non-blank line of `path`, `BATCH_LINES` per transaction.

    Lines are read as bytes so that a line that is not UTF-8 is refused on its own
    instead of stopping the file.
    """
    source_ref = _shown_name(path)
    tally = _Tally()
    batch: list[Prepared] = []

    async def flush() -> None:
        tally.add(
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
    return tally.report()


def _shown_name(path: Path) -> str:
    """The file name as stored with each line: valid UTF-8, a nin-shaped part masked."""
    return mask_nins(path.name.encode("utf-8", "backslashreplace").decode("utf-8"))
