"""The archive's closing summary comes from the snapshot in the operation, nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapter.errors import PermanentError
from adapter.planning.payloads import (
    CreateDocument,
    DocumentSource,
    SummaryLine,
    SummaryMeetingLine,
    SummaryParticipantLine,
    SummarySnapshot,
)
from adapter.wiring.summary_source import summary_provider

REF = "stafett:vardo:BS-2026-0007:summary:stafettlogg"


def _document(summary: SummarySnapshot | None) -> CreateDocument:
    return CreateDocument(
        case_link="archive-case:main",
        title="Sluttrapport – stafettlogg",
        unofficial_title="Sluttrapport",
        category="113",
        document_date=datetime(2026, 4, 7, 8, 0, tzinfo=UTC),
        source=DocumentSource(filename="s.pdf", media_type="application/pdf"),
        render="closing-summary",
        summary=summary,
    )


async def test_the_summary_is_the_payload_s_snapshot() -> None:
    """Tenant and case come from the op_ref; every line from the snapshot, as it was."""
    snapshot = SummarySnapshot(
        goals=(SummaryLine(title="Mål 1", status="active"),),
        measures=(SummaryLine(title="Tiltak 1", status="ended", evaluation="Bra"),),
        meetings_held=(SummaryMeetingLine(kind="evalueringsmote", date=date(2026, 3, 24)),),
        participants=(SummaryParticipantLine(role="deltaker", service="ppt"),),
        transferred_at=datetime(2026, 4, 7, 8, 0, tzinfo=UTC),
    )
    summary = await summary_provider()(REF, _document(snapshot))
    assert (summary.tenant, summary.case_id) == ("vardo", "BS-2026-0007")
    assert [g.title for g in summary.goals] == ["Mål 1"]
    assert [(m.title, m.evaluation) for m in summary.measures] == [("Tiltak 1", "Bra")]
    assert [m.kind for m in summary.meetings_held] == ["evalueringsmote"]
    assert [(p.role, p.service) for p in summary.participants] == [("deltaker", "ppt")]
    assert summary.transferred_at == snapshot.transferred_at


async def test_a_summary_operation_without_a_snapshot_parks_with_the_reason() -> None:
    """Nothing is made up from today's state: the operation parks, and says why."""
    with pytest.raises(PermanentError, match="no summary snapshot"):
        await summary_provider()(REF, _document(None))
