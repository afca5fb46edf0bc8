"""PDF checks: parsing (not the magic alone) and the PDF/A declaration, both ways."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import IndirectObject

from adapter.targets.pdf import declares_pdfa, is_pdf, mark_pdfa

MINUTES = Path(__file__).resolve().parents[2] / "examples" / "minutes"
PDFA = (MINUTES / "minutes-pdfa.pdf").read_bytes()
PLAIN = (MINUTES / "minutes-plain.pdf").read_bytes()


def test_both_samples_are_small_pdfs() -> None:
    """The example minutes parse as PDFs and stay under 20 kB."""
    assert is_pdf(PDFA) and is_pdf(PLAIN)
    assert len(PDFA) < 20_000 and len(PLAIN) < 20_000


def test_magic_bytes_alone_are_not_a_pdf() -> None:
    """`%PDF-` followed by junk, a truncated PDF, and other bytes are refused."""
    assert not is_pdf(b"%PDF-1.7\n" + b"not really a pdf " * 40)
    assert not is_pdf(PLAIN[: len(PLAIN) // 3])
    assert not is_pdf(b"PK\x03\x04 a zip file")
    assert not is_pdf(b"")


def test_pdfa_declaration_is_read_from_xmp() -> None:
    """The PDF/A sample declares conformance; the plain one and non-PDFs do not."""
    assert declares_pdfa(PDFA)
    assert not declares_pdfa(PLAIN)
    assert not declares_pdfa(b"%PDF-1.7 pdfaid:part 2")


def test_mark_pdfa_adds_the_declaration_reproducibly() -> None:
    """Marking the plain sample makes it declare PDF/A, with the same bytes each time."""
    marked = mark_pdfa(PLAIN, title="Referat")
    assert declares_pdfa(marked) and is_pdf(marked)
    assert mark_pdfa(PLAIN, title="Referat") == marked


def test_mark_pdfa_keeps_the_file_identifier_and_adds_an_srgb_intent() -> None:
    """The marked file keeps the input's /ID and carries one sRGB output intent whose
    profile is an indirect ICC stream."""
    marked = PdfReader(io.BytesIO(mark_pdfa(PLAIN, title="Referat")))
    assert marked.trailer["/ID"] == PdfReader(io.BytesIO(PLAIN)).trailer["/ID"]
    intents = marked.trailer["/Root"]["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent.raw_get("/DestOutputProfile")
    assert isinstance(profile, IndirectObject)
    assert profile.get_object()["/N"] == 3
    assert profile.get_object().get_data()[36:40] == b"acsp"  # an ICC profile's signature


def test_mark_pdfa_refuses_a_pdf_without_a_file_identifier() -> None:
    """PDF/A needs a file identifier; an input without one is refused, not marked."""
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    assert "/ID" not in PdfReader(io.BytesIO(out.getvalue())).trailer
    with pytest.raises(ValueError, match="file identifier"):
        mark_pdfa(out.getvalue(), title="Referat")
