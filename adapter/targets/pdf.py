"""PDF checks for archiving: is it really a PDF, does it declare PDF/A; and PDF/A marking.

Public 360 neither validates nor converts files (research/p360.md §2, §6), so the adapter
decides `VersionFormat` itself: `A` only for a file whose XMP metadata declares PDF/A
conformance (`pdfaid:part`), else `P`. `mark_pdfa` adds that declaration (and an sRGB
output intent) to a PDF stafett renders itself; it does not make arbitrary input conform.

Only pypdf's public API is used: a new indirect object enters the writer through
`PdfObject.clone(writer)` (an object whose `indirect_reference` is None is registered as a
new object), and the file identifier is the input's, which `PdfWriter(clone_from=…)`
carries over.
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)
from pypdf.xmp import XmpInformation

__all__ = ["PDF_MEDIA_TYPE", "declares_pdfa", "is_pdf", "mark_pdfa"]

PDF_MEDIA_TYPE = "application/pdf"

_HEADER_WINDOW = 1024
"""PDF readers accept the `%PDF-` header within the first kilobyte."""


def _reader(data: bytes) -> PdfReader | None:
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if len(reader.pages) < 1:
                return None
    except Exception:  # pypdf raises many kinds on malformed input: all mean "not a PDF"
        return None
    return reader


def is_pdf(data: bytes) -> bool:
    """True when `data` parses as a PDF with at least one page (not just the magic bytes)."""
    return _reader(data) is not None


def declares_pdfa(data: bytes) -> bool:
    """True when `data` is a PDF whose XMP metadata declares a PDF/A part (`pdfaid:part`)."""
    reader = _reader(data)
    if reader is None:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xmp = reader.xmp_metadata
            part = None if xmp is None else xmp.pdfaid_part
    except Exception:  # unreadable XMP declares nothing
        return False
    return part is not None and str(part).strip() != ""


def _srgb_profile() -> bytes:
    """An sRGB ICC profile with a fixed creation date (header bytes 24–35), for stable output."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile[:24] + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + profile[36:]


def _indirect(obj: PdfObject, writer: PdfWriter) -> IndirectObject:
    """`obj` added to `writer` as a new indirect object (pypdf's public door: `clone`)."""
    obj.indirect_reference = None
    added = obj.clone(writer).indirect_reference
    if added is None:  # pragma: no cover - pypdf registers an object cloned this way
        raise RuntimeError("pypdf did not register the object")
    return added


def _srgb_output_intent(writer: PdfWriter) -> DictionaryObject:
    profile = _srgb_profile()
    stream = DecodedStreamObject()
    stream.set_data(profile)
    stream[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject()
    intent[NameObject("/Type")] = NameObject("/OutputIntent")
    intent[NameObject("/S")] = NameObject("/GTS_PDFA1")
    intent[NameObject("/OutputConditionIdentifier")] = TextStringObject("sRGB")
    intent[NameObject("/Info")] = TextStringObject("sRGB IEC61966-2.1")
    intent[NameObject("/DestOutputProfile")] = _indirect(stream, writer)
    return intent


def mark_pdfa(data: bytes, *, title: str, part: int = 2, conformance: str = "B") -> bytes:
    """`data` with XMP metadata declaring PDF/A-`part``conformance`, a title and an sRGB intent.

    Use only on PDFs stafett renders itself with embedded fonts; the caller vouches for the
    content, this only writes the declaration. The input must carry a file identifier
    (`/ID`, which PDF/A requires; reportlab always writes one): the output keeps it, so the
    same input gives the same bytes. ValueError for an input without one.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(data))
        if "/ID" not in reader.trailer:
            raise ValueError("the PDF has no file identifier (/ID): cannot mark it PDF/A")
        writer = PdfWriter(clone_from=reader)
        xmp = XmpInformation.create()
        xmp.pdfaid_part = str(part)
        xmp.pdfaid_conformance = conformance
        xmp.dc_title = {"x-default": title}
        xmp.dc_format = PDF_MEDIA_TYPE
        writer.xmp_metadata = xmp
        writer.add_metadata({"/Title": title})
        writer.root_object[NameObject("/OutputIntents")] = ArrayObject(
            [_indirect(_srgb_output_intent(writer), writer)]
        )
        out = io.BytesIO()
        writer.write(out)
    return out.getvalue()
