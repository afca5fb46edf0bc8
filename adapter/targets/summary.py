"""The stafettlogg's closing summary as a PDF (reportlab), for the archive.

Domain rule 5: when a case closes or moves to an individual plan, a closing summary of the
stafettlogg is archived. It holds goals and outcomes, measures with their evaluations, the
meetings held and the participants by role and service — never a name or a nin (anything
shaped like a nin in free text is masked). Fonts are embedded and the XMP metadata declares
PDF/A-2b, so the archive gets it with `VersionFormat` A.

The dispatcher builds a `ClosingSummary` from the case's state and hands it to
`P360Client` through its `closing_summary` provider (see `adapter/targets/p360.py`).
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime
from xml.sax.saxutils import escape

import reportlab
from pydantic import BaseModel, ConfigDict
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from adapter.nin import mask_nins
from adapter.targets.pdf import mark_pdfa

__all__ = [
    "SUMMARY_TITLE",
    "ClosingSummary",
    "SummaryItem",
    "SummaryMeeting",
    "SummaryParticipant",
    "render_closing_summary",
]

SUMMARY_TITLE = "Sluttsammendrag – stafettlogg (BTI)"

_FONT, _BOLD = "StafettVera", "StafettVeraBd"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SummaryItem(_Frozen):
    """A goal or a measure: its title, its final status and the evaluation, if any."""

    title: str
    status: str
    evaluation: str | None = None


class SummaryMeeting(_Frozen):
    """A meeting held: its kind (e.g. `oppfolgingssamtale`) and date."""

    kind: str
    date: date


class SummaryParticipant(_Frozen):
    """A participant by role and service only — no name."""

    role: str
    service: str | None = None


class ClosingSummary(_Frozen):
    """What the closing summary shows; built by the dispatcher from the case's state."""

    tenant: str
    case_id: str
    transferred_at: datetime | None = None
    goals: tuple[SummaryItem, ...] = ()
    measures: tuple[SummaryItem, ...] = ()
    meetings_held: tuple[SummaryMeeting, ...] = ()
    participants: tuple[SummaryParticipant, ...] = ()


def _fonts() -> tuple[str, str]:
    registered = pdfmetrics.getRegisteredFontNames()
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, file in ((_FONT, "Vera.ttf"), (_BOLD, "VeraBd.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file), asciiReadable=False))
    return _FONT, _BOLD


def _text(value: str | None) -> str:
    """Free text made safe: nin-shaped numbers masked, XML markup escaped."""
    return escape(mask_nins(value or "–"))


def _table(
    header: list[str], rows: list[list[str]], style: ParagraphStyle, head: ParagraphStyle
) -> Table:
    cells = [[Paragraph(escape(h), head) for h in header]]
    cells += [[Paragraph(_text(cell), style) for cell in row] for row in rows]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_closing_summary(summary: ClosingSummary) -> bytes:
    """The closing summary as PDF bytes (PDF/A-2b declared, fonts embedded)."""
    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12)
    head = ParagraphStyle("th", fontName=bold, fontSize=9.5, leading=12)
    heading = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=8)
    title = ParagraphStyle("h1", fontName=bold, fontSize=15, leading=19, spaceAfter=6)
    story: list[Flowable] = [
        Paragraph(escape(SUMMARY_TITLE), title),
        Paragraph(f"Sak: {_text(summary.case_id)} · Kommune: {_text(summary.tenant)}", body),
    ]
    if summary.transferred_at is not None:
        moved = summary.transferred_at.date().isoformat()
        story.append(Paragraph(f"Overført til individuell plan: {moved}", body))
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "Mål og resultat",
            ["Mål", "Status", "Evaluering"],
            [[g.title, g.status, g.evaluation or "–"] for g in summary.goals],
        ),
        (
            "Tiltak og evaluering",
            ["Tiltak", "Status", "Evaluering"],
            [[m.title, m.status, m.evaluation or "–"] for m in summary.measures],
        ),
        (
            "Møter som er holdt",
            ["Type", "Dato"],
            [[m.kind, m.date.isoformat()] for m in summary.meetings_held],
        ),
        (
            "Deltakere (rolle og tjeneste)",
            ["Rolle", "Tjeneste"],
            [[p.role, p.service or "–"] for p in summary.participants],
        ),
    ]
    for name, header, rows in sections:
        story.append(Paragraph(escape(name), heading))
        story.append(_table(header, rows, body, head) if rows else Paragraph("Ingen.", body))
        story.append(Spacer(1, 3 * mm))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=SUMMARY_TITLE,
        author="stafett",
        subject="BTI",
        invariant=1,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(story)
    return mark_pdfa(buffer.getvalue(), title=SUMMARY_TITLE)
