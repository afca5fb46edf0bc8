"""Make the two sample minutes: `minutes-pdfa.pdf` (declares PDF/A-2b) and `minutes-plain.pdf`.

Run from the repository root: `.venv/bin/python examples/minutes/make_pdfs.py`. The output
is deterministic (reportlab's invariant mode), so re-running leaves the files unchanged.
The text is an invented Norwegian referat without names or nins. The PDF/A sample embeds
its font and carries XMP `pdfaid:part` 2 / `pdfaid:conformance` B and an sRGB output
intent; the plain one uses a standard font and no XMP.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from adapter.targets.pdf import mark_pdfa

HERE = Path(__file__).resolve().parent
TITLE = "Referat – oppfølgingssamtale (BTI)"
LINES = (
    TITLE,
    "",
    "Sak: BTI-2026-0042. Møtetype: oppfølgingssamtale, nivå 1.",
    "Til stede: stafettholder (skole), helsesykepleier, foresatte.",
    "",
    "1. Status siden forrige møte",
    "   Eleven møter oftere på skolen og deltar mer i friminuttene.",
    "2. Mål",
    "   Trives på skolen: delvis nådd. Videreføres.",
    "3. Tiltak",
    "   Samtaler med helsesykepleier hver andre uke videreføres til jul.",
    "   Skolen legger til rette for fast følge i friminuttene.",
    "4. Beslutning",
    "   Fortsette på nivå 1. Nytt møte om seks uker.",
)


def _draw(font: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(TITLE)
    canvas.setAuthor("stafett eksempel")
    y = A4[1] - 72
    for number, line in enumerate(LINES):
        canvas.setFont(font, 14 if number == 0 else 10.5)
        canvas.drawString(60, y, line)
        y -= 22 if number == 0 else 15
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def make_plain() -> bytes:
    """The plain minutes: a standard font, no PDF/A declaration."""
    return _draw("Helvetica")


def make_pdfa() -> bytes:
    """The PDF/A minutes: an embedded font subset and the PDF/A-2b declaration."""
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    if "MinutesVera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(
            TTFont("MinutesVera", os.path.join(folder, "Vera.ttf"), asciiReadable=False)
        )
    return mark_pdfa(_draw("MinutesVera"), title=TITLE)


def main() -> None:
    """Write both files next to this script and print their sizes."""
    for name, data in (("minutes-pdfa.pdf", make_pdfa()), ("minutes-plain.pdf", make_plain())):
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
