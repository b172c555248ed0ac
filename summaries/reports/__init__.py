"""The PDF health report, drawn with fpdf2.

``content`` says what the report holds, as blocks; ``fonts`` cuts the embedded fonts to exactly
the characters those blocks print; ``drawing`` lays the blocks out on A4 pages.
"""

from __future__ import annotations

from typing import Any

from summaries.reports import fonts
from summaries.reports.content import (
    DISCLAIMER,
    Bullets,
    Chart,
    Document,
    Heading,
    Para,
    Space,
    Table,
    report_document,
    schedule_text,
)
from summaries.reports.drawing import (
    CONTINUED,
    MARKER_RADIUS,
    Pdf,
    axis_label,
    chart_marks,
    printable,
    printable_document,
)

__all__ = [
    "CONTINUED",
    "DISCLAIMER",
    "MARKER_RADIUS",
    "Bullets",
    "Chart",
    "Document",
    "Heading",
    "Para",
    "Space",
    "Table",
    "axis_label",
    "build_health_report",
    "chart_marks",
    "printable",
    "render",
    "report_document",
    "schedule_text",
]


def render(doc: Document) -> bytes:
    doc = printable_document(doc)
    with fonts.workdir() as workdir:
        pdf = Pdf(doc)
        fonts.install(pdf, doc.texts(), workdir)
        pdf.draw()
        return bytes(pdf.output())


def build_health_report(*, data: dict[str, Any]) -> bytes:
    """The PDF for ``data`` (from ``selectors.report_data``)."""
    return render(report_document(data))
