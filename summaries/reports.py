"""The PDF health report, drawn with reportlab.

Every user-supplied value goes through ``_text`` (XML-escaped) before it reaches a Paragraph,
whose mini-markup would otherwise read ``&`` and ``<`` as markup: a patient called
``Tom & <Jerry`` prints exactly that.
"""

from __future__ import annotations

import datetime
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from medications.models import Frequency

DISCLAIMER = (
    "This report summarises information you recorded in MediTrack. It is not a diagnosis and not "
    "medical advice; discuss any concern with a qualified health professional."
)

_styles = getSampleStyleSheet()
_TITLE = _styles["Title"]
_H2 = _styles["Heading2"]
_BODY = _styles["BodyText"]
_SMALL = ParagraphStyle("Small", parent=_BODY, fontSize=8, leading=10)
_CELL = ParagraphStyle("Cell", parent=_BODY, fontSize=9, leading=11)
_MUTED = ParagraphStyle("Muted", parent=_BODY, textColor=colors.grey)

_TABLE_STYLE = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]
)


def _text(value: object) -> str:
    """User text, escaped for reportlab's paragraph markup."""
    return escape("" if value is None else str(value))


def _para(value: object, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(_text(value), style)


def _table(header: list[str], rows: list[list[object]], widths: list[float]) -> Table:
    cells = [[_para(title) for title in header]]
    cells += [[cell if isinstance(cell, Paragraph) else _para(cell) for cell in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(_TABLE_STYLE)
    return table


def _percent(value: float | None) -> str:
    return "n/a (no scheduled doses were due)" if value is None else f"{value:.1f}%"


def _severity_chart(daily: list[dict[str, Any]], width: float) -> Drawing:
    """Average severity per day (1–10) over the window; days with nothing logged are skipped."""
    height = 6 * cm
    drawing = Drawing(width, height)
    points = [(index, day["average"]) for index, day in enumerate(daily) if day["average"] is not None]
    if not points:
        drawing.add(String(width / 2, height / 2, "No symptoms logged in this period.", textAnchor="middle"))
        return drawing
    plot = LinePlot()
    plot.x, plot.y = 1.2 * cm, 1.0 * cm
    plot.width, plot.height = width - 1.8 * cm, height - 1.6 * cm
    plot.data = [points]
    plot.lines[0].strokeColor = colors.HexColor("#dc3545")
    plot.lines[0].strokeWidth = 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 10, 2
    last = max(len(daily) - 1, 1)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, last
    step = max(1, last // 6)
    plot.xValueAxis.valueSteps = list(range(0, last + 1, step))
    plot.xValueAxis.labelTextFormat = lambda index: (
        daily[int(index)]["date"].strftime("%m-%d") if 0 <= int(index) < len(daily) else ""
    )
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.fontSize = 7
    drawing.add(plot)
    drawing.add(String(0, height - 0.4 * cm, "Average severity (1–10) per day", fontSize=8))
    return drawing


def _insight_section(insight: dict[str, Any]) -> list:
    flow: list = [Paragraph("Latest AI insight", _H2), _para(insight.get("insight", ""), _BODY)]
    details = [f"Period analysed: {insight['analyzed_period']}"] if insight.get("analyzed_period") else []
    if insight.get("source"):
        details.append(f"Source: {insight['source']}")
    if details:
        flow.append(_para(" · ".join(details), _MUTED))
    return flow


def build_health_report(*, data: dict[str, Any], insight: dict[str, Any] | None = None) -> bytes:
    """The PDF for ``data`` (from ``selectors.report_data``); ``insight`` is the latest AI
    insight (keys ``insight``, ``analyzed_period``, ``source``) when one exists."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title="MediTrack health report",
        author="MediTrack",
    )
    width = doc.width
    patient = data["patient"]
    start: datetime.date = data["start"]
    end: datetime.date = data["end"]
    flow: list = [
        Paragraph("MediTrack health report", _TITLE),
        _para(f"Patient: {patient.display_name}", _BODY),
        _para(f"Period: {start.isoformat()} to {end.isoformat()} ({data['days']} days, {patient.timezone})", _BODY),
    ]
    if patient.date_of_birth:
        flow.append(_para(f"Date of birth: {patient.date_of_birth.isoformat()}", _BODY))
    flow.append(Spacer(1, 0.4 * cm))

    flow.append(Paragraph("Current medications", _H2))
    medications = data["medications"]
    if medications:
        labels = dict(Frequency.choices)
        rows = [
            [m["name"], m["dosage"], labels.get(m["frequency"], m["frequency"]), m["start_date"].isoformat()]
            for m in medications
        ]
        flow.append(
            _table(
                ["Medication", "Dosage", "Frequency", "Since"],
                rows,
                [0.35 * width, 0.2 * width, 0.27 * width, 0.18 * width],
            )
        )
    else:
        flow.append(_para("No current medications.", _MUTED))

    adherence = data["adherence"]
    flow.append(Paragraph("Medication adherence", _H2))
    flow.append(
        _para(
            f"Adherence: {_percent(adherence['adherence_rate'])} — taken {adherence['taken_reminders']}, "
            f"missed {adherence['missed_reminders']}, skipped {adherence['skipped_reminders']} "
            f"of {adherence['total_reminders']} scheduled doses.",
            _BODY,
        )
    )
    if adherence["medications"]:
        rows = [
            [m["name"], _percent(m["adherence_rate"]), m["taken"], m["missed"], m["skipped"]]
            for m in adherence["medications"]
        ]
        flow.append(
            _table(
                ["Medication", "Adherence", "Taken", "Missed", "Skipped"],
                rows,
                [0.36 * width, 0.28 * width, 0.12 * width, 0.12 * width, 0.12 * width],
            )
        )

    flow.append(Paragraph("Symptom severity over time", _H2))
    flow.append(_severity_chart(data["daily_severity"], width))

    flow.append(Paragraph("Symptom summary", _H2))
    if data["summary"]:
        rows = [
            [s["symptom_name"], s["count"], f"{s['avg_severity']}/10", s["last_occurrence"].isoformat()]
            for s in data["summary"]
        ]
        flow.append(
            _table(
                ["Symptom", "Times", "Average severity", "Last"],
                rows,
                [0.4 * width, 0.15 * width, 0.25 * width, 0.2 * width],
            )
        )
    else:
        flow.append(_para("No symptoms logged in this period.", _MUTED))

    if data["symptoms"]:
        flow.append(Paragraph("Symptom log", _H2))
        if data["symptom_total"] > len(data["symptoms"]):
            shown = len(data["symptoms"])
            flow.append(_para(f"The latest {shown} of {data['symptom_total']} entries in this period.", _MUTED))
        rows = [[s["date"].isoformat(), s["name"], f"{s['severity']}/10", s["notes"]] for s in data["symptoms"]]
        flow.append(
            _table(
                ["Date", "Symptom", "Severity", "Notes"], rows, [0.17 * width, 0.28 * width, 0.13 * width, 0.42 * width]
            )
        )

    mood = data["mood"]
    flow.append(Paragraph("Mood", _H2))
    if mood["logged_days"]:
        flow.append(_para(f"Average mood: {mood['average']}/5 over {mood['logged_days']} logged days.", _BODY))
        rows = [[f"{level['mood']} – {level['label']}", level["count"]] for level in mood["distribution"]]
        flow.append(_table(["Mood", "Days"], rows, [0.5 * width, 0.2 * width]))
    else:
        flow.append(_para("No moods logged in this period.", _MUTED))

    if insight:
        flow.extend(_insight_section(insight))

    flow.append(Spacer(1, 0.6 * cm))
    flow.append(_para(f"Disclaimer: {DISCLAIMER}", _SMALL))
    flow.append(_para(f"Generated {patient.local_now().strftime('%Y-%m-%d %H:%M %Z')}.", _SMALL))
    doc.build(flow)
    return buffer.getvalue()
