"""The closing summary PDF: a real PDF with goals, measures, meetings and roles; no nin."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from adapter.targets.pdf import declares_pdfa, is_pdf
from adapter.targets.summary import (
    ClosingSummary,
    SummaryItem,
    SummaryMeeting,
    SummaryParticipant,
    render_closing_summary,
)

NIN = "03851650090"  # Tenor synthetic


def summary() -> ClosingSummary:
    """A summary whose free text tries to smuggle a nin and markup in."""
    return ClosingSummary(
        tenant="modum",
        case_id="BTI-2026-0042",
        transferred_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        goals=(
            SummaryItem(title="Trives på skolen", status="achieved", evaluation=f"Bra, {NIN}"),
            SummaryItem(title="Søvn <b>bedre</b>", status="discontinued"),
        ),
        measures=(SummaryItem(title="Samtalegruppe", status="ended", evaluation="Virket godt"),),
        meetings_held=(
            SummaryMeeting(kind="ressursteam", date=date(2026, 2, 3)),
            SummaryMeeting(kind="evalueringsmote", date=date(2026, 4, 28)),
        ),
        participants=(
            SummaryParticipant(role="helsesykepleier", service="helsestasjon"),
            SummaryParticipant(role="kontaktlærer", service="skole"),
        ),
    )


def text_of(data: bytes) -> str:
    """All text pypdf extracts from the PDF."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_summary_is_a_pdfa_declared_pdf_with_every_section() -> None:
    """Goals with outcomes, measures with evaluations, meetings, roles and services appear."""
    data = render_closing_summary(summary())
    text = text_of(data)
    assert is_pdf(data) and declares_pdfa(data)
    for expected in (
        "Trives på skolen",
        "achieved",
        "Samtalegruppe",
        "Virket godt",
        "ressursteam",
        "2026-04-28",
        "kontaktlærer",
        "helsestasjon",
        "BTI-2026-0042",
        "2026-05-01",
        "Søvn <b>bedre</b>",
    ):
        assert expected in text, expected


def test_summary_never_contains_a_nin() -> None:
    """A nin in free text is masked in the rendered PDF."""
    text = text_of(render_closing_summary(summary()))
    assert NIN not in text and NIN[:6] not in text.replace("2026-", "")


def test_empty_sections_render() -> None:
    """A summary with nothing but ids still renders, saying there is nothing."""
    text = text_of(render_closing_summary(ClosingSummary(tenant="vardo", case_id="C-1")))
    assert "Ingen." in text


def test_summary_model_is_frozen_and_closed() -> None:
    """The model refuses unknown fields (e.g. a name) and mutation."""
    with pytest.raises(ValidationError):
        SummaryParticipant(role="lege", name="Kari")  # type: ignore[call-arg]
    model = summary()
    with pytest.raises(ValidationError):
        model.case_id = "other"  # type: ignore[misc]
