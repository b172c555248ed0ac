"""The PDF report's content: what it says, as blocks (headings, paragraphs, tables, the chart),
before anything is drawn. Plain strings throughout: fpdf2 reads no markup, so user text such as
``Tom & <Jerry`` prints exactly as written."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from medications.schedule import dose_amount, plain_number

DISCLAIMER = (
    "This report summarises information you recorded in MediTrack. It is not a diagnosis and not "
    "medical advice; discuss any concern with a qualified health professional."
)

BODY, CELL, SMALL, HEADING, TITLE = 10, 9, 8, 13, 18  # font sizes, pt


# --- Blocks ---------------------------------------------------------------------------------------


@dataclass
class Heading:
    text: str


@dataclass
class Para:
    text: str
    size: int = BODY
    muted: bool = False


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # fractions of the text width


@dataclass
class Chart:
    daily: list[dict[str, Any]]
    start: datetime.date
    end: datetime.date


@dataclass
class Space:
    mm: float


Block = Heading | Para | Bullets | Table | Chart | Space


@dataclass
class Document:
    title: str
    running_header: str
    period: str
    generated: str
    blocks: list[Block] = field(default_factory=list)

    def texts(self) -> Iterator[str]:
        yield from (self.title, self.running_header, self.period, self.generated)
        for block in self.blocks:
            if isinstance(block, Heading | Para):
                yield block.text
            elif isinstance(block, Bullets):
                yield from block.items
            elif isinstance(block, Table):
                yield from block.header
                for row in block.rows:
                    yield from row


# --- Content --------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _percent(value: float | None) -> str:
    return "n/a (no scheduled doses were due)" if value is None else f"{value:.1f}%"


WEEKDAYS = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}


def _day_rule(m: dict[str, Any]) -> str | None:
    if m.get("days_of_week"):
        return "on " + ", ".join(WEEKDAYS.get(day, day) for day in m["days_of_week"])
    if (m.get("every_n_days") or 1) > 1:
        return f"every {m['every_n_days']} days from {m['start_date'].isoformat()}"
    if m.get("cycle_on_days") and m.get("cycle_off_days"):
        return f"{m['cycle_on_days']} days on, {m['cycle_off_days']} days off from {m['start_date'].isoformat()}"
    return None


def _dose_rule(m: dict[str, Any]) -> str | None:
    unit = m.get("dose_unit") or "dose"
    if m.get("taper"):
        steps = "; ".join(f"{plain_number(step['dose_quantity'])} from day {step['from_day']}" for step in m["taper"])
        return f"tapering ({unit}): {steps}"
    quantity = m.get("dose_quantity")
    return None if quantity is None else dose_amount(quantity, unit)


def schedule_text(m: dict[str, Any]) -> str:
    """The Frequency column: what the patient actually follows (local times, the days it applies
    to and the dose), from the medication's schedule fields."""
    if m["frequency"] == "as_needed":
        return "As needed"
    times = ", ".join(m["reminder_times"])
    days = _day_rule(m)
    not_daily = bool(m.get("days_of_week")) or (m.get("every_n_days") or 1) > 1
    if m["frequency"] == "interval" and m.get("interval_hours"):
        text = f"Every {m['interval_hours']} hours at {times}"
    elif not_daily:  # "once daily … on Mon" would contradict itself
        text = f"At {times}"
    elif m["frequency"] == "custom":
        text = f"Daily at {times}"
    else:
        text = f"{m['frequency_label']} at {times}" if times else m["frequency_label"]
    parts = [text, days, _dose_rule(m)]
    return ", ".join(part for part in parts if part)


def _medication_rows(medications: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for m in medications:
        since = m["start_date"].isoformat()
        if m["end_date"]:
            since += f" to {m['end_date'].isoformat()}"
        rows.append([m["name"], m["dosage"], schedule_text(m), since, m["notes"] or "", stock_text(m)])
    return rows


def stock_text(m: dict[str, Any]) -> str:
    """The Stock column: what is left and the day it runs out ("not tracked" without a count)."""
    if m.get("stock_quantity") is None:
        return "not tracked"
    text = f"{plain_number(m['stock_quantity'])} × {m.get('dose_unit') or 'dose'} left"
    if m.get("runs_out_on"):
        text += f", runs out {m['runs_out_on'].isoformat()}"
    return text


def _insight_blocks(insight: dict[str, Any] | None) -> list[Block]:
    if not insight:
        return []
    by = "Google Gemini" if insight.get("source") == "gemini" else "MediTrack's built-in statistical analysis"
    blocks: list[Block] = [
        Heading("Insight for this period"),
        Para(f"Period analysed: {insight['analyzed_period']} · written by {by}.", SMALL, muted=True),
        Para(insight.get("insight", "")),
    ]
    if insight.get("recommendations"):
        blocks.append(Bullets(list(insight["recommendations"])))
    return blocks


def report_document(data: dict[str, Any]) -> Document:
    """The report's content for ``data`` (from ``selectors.report_data``), not yet drawn."""
    patient = data["patient"]
    start: datetime.date = data["start"]
    end: datetime.date = data["end"]
    name = patient.display_name
    period = f"{start.isoformat()} to {end.isoformat()}"
    doc = Document(
        title="MediTrack health report",
        running_header=f"MediTrack health report · {name}",
        period=period,
        generated=f"Generated {patient.local_now().strftime('%Y-%m-%d %H:%M %Z')}",
    )
    add = doc.blocks.append
    add(Para(f"Patient: {name}"))
    add(Para(f"Period: {period} ({_plural(data['days'], 'day')}, {patient.timezone})"))
    if patient.date_of_birth:
        add(Para(f"Date of birth: {patient.date_of_birth.isoformat()}"))
    add(Space(3))

    add(Heading("Current medications"))
    if data["medications"]:
        add(
            Table(
                ["Medication", "Dosage", "Frequency", "Since", "Notes", "Stock"],
                _medication_rows(data["medications"]),
                [0.19, 0.11, 0.2, 0.13, 0.22, 0.15],
            )
        )
    else:
        add(Para("No current medications.", muted=True))

    adherence = data["adherence"]
    add(Heading("Medication adherence"))
    add(
        Para(
            f"Adherence: {_percent(adherence['adherence_rate'])} — taken {adherence['taken_reminders']}, "
            f"missed {adherence['missed_reminders']}, skipped {adherence['skipped_reminders']} "
            f"of {_plural(adherence['total_reminders'], 'scheduled dose')}."
        )
    )
    if adherence["medications"]:
        rows = [
            [m["name"], _percent(m["adherence_rate"]), str(m["taken"]), str(m["missed"]), str(m["skipped"])]
            for m in adherence["medications"]
        ]
        add(Table(["Medication", "Adherence", "Taken", "Missed", "Skipped"], rows, [0.36, 0.28, 0.12, 0.12, 0.12]))

    add(Heading("Symptom severity over time"))
    add(Chart(data["daily_severity"], start, end))

    add(Heading("Symptom summary"))
    if data["summary"]:
        rows = [
            [s["symptom_name"], str(s["count"]), f"{s['avg_severity']}/10", s["last_occurrence"].isoformat()]
            for s in data["summary"]
        ]
        add(Table(["Symptom", "Times", "Average severity", "Last"], rows, [0.4, 0.15, 0.25, 0.2]))
    else:
        add(Para("No symptoms logged in this period.", muted=True))

    if data["symptoms"]:
        add(Heading("Symptom log"))
        if data["symptom_total"] > len(data["symptoms"]):
            shown = len(data["symptoms"])
            add(Para(f"The latest {shown} of {data['symptom_total']} entries in this period.", muted=True))
        rows = [[s["date"].isoformat(), s["name"], f"{s['severity']}/10", s["notes"] or ""] for s in data["symptoms"]]
        add(Table(["Date", "Symptom", "Severity", "Notes"], rows, [0.15, 0.27, 0.12, 0.46]))

    mood = data["mood"]
    add(Heading("Mood"))
    if mood["logged_days"]:
        add(Para(f"Average mood: {mood['average']}/5 over {_plural(mood['logged_days'], 'logged day')}."))
        rows = [[f"{level['mood']} – {level['label']}", str(level["count"])] for level in mood["distribution"]]
        add(Table(["Mood", "Days"], rows, [0.5, 0.2]))
    else:
        add(Para("No moods logged in this period.", muted=True))

    doc.blocks.extend(_insight_blocks(data.get("insight")))
    add(Space(5))
    add(Para(f"Disclaimer: {DISCLAIMER}", SMALL))
    return doc
