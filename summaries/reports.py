"""The PDF health report, drawn with fpdf2.

The content is first laid out as a list of blocks (headings, paragraphs, tables, the chart), so
the fonts can be cut to exactly the characters the document prints (``summaries.pdffonts``);
then the blocks are drawn. fpdf2 takes text as plain strings (no markup), so user text such as
``Tom & <Jerry`` prints exactly as written.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import TableHeadingsDisplay, XPos, YPos

from summaries import pdffonts

DISCLAIMER = (
    "This report summarises information you recorded in MediTrack. It is not a diagnosis and not "
    "medical advice; discuss any concern with a qualified health professional."
)
PAGES_ALIAS = "{meditrack-pages}"  # replaced by the page count (a user's "{nb}" stays as typed)

MARGIN = 18  # mm
BODY, CELL, SMALL, HEADING, TITLE = 10, 9, 8, 13, 18  # pt
LINE = {BODY: 5.0, CELL: 4.4, SMALL: 3.8}  # mm per line
CELL_PADDING = 1.2  # mm
# A table cell is cut into rows of at most this many lines, so no row is taller than a page.
MAX_CELL_LINES = 30
CONTINUED = "(continued)"
KEEP_WITH_HEADING = 22  # mm of what follows a heading that must fit on its page
GREY = (108, 117, 125)
HEAD_FILL = (233, 236, 239)
RULE = (173, 181, 189)
SEVERITY_RED = (220, 53, 69)
MARKER_RADIUS = 0.9  # mm
CHART_HEIGHT = 62.0  # mm


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


def _number(value: Any) -> str:
    """1, 0.5, 2.25 (a Decimal without trailing zeros)."""
    return format(decimal.Decimal(str(value)).normalize(), "f")


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
        steps = "; ".join(f"{_number(step['dose_quantity'])} from day {step['from_day']}" for step in m["taper"])
        return f"tapering ({unit}): {steps}"
    quantity = m.get("dose_quantity")
    if quantity is not None and (decimal.Decimal(str(quantity)) != 1 or unit != "dose"):
        return f"{_number(quantity)} × {unit}"
    return None


def schedule_text(m: dict[str, Any]) -> str:
    """The Frequency column: what the patient actually follows (local times, the days it applies
    to and the dose), from the medication's schedule fields."""
    if m["frequency"] == "as_needed":
        return "As needed"
    times = ", ".join(m["reminder_times"])
    days = _day_rule(m)
    if m["frequency"] == "interval" and m.get("interval_hours"):
        text = f"Every {m['interval_hours']} hours at {times}"
    elif m["frequency"] == "custom":
        text = f"At {times}" if days else f"Daily at {times}"
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
        rows.append([m["name"], m["dosage"], schedule_text(m), since, m["notes"] or ""])
    return rows


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
                ["Medication", "Dosage", "Frequency", "Since", "Notes"],
                _medication_rows(data["medications"]),
                [0.22, 0.13, 0.22, 0.15, 0.28],
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


def chart_marks(daily: list[dict[str, Any]]) -> tuple[list[tuple[tuple[int, float], ...]], list[tuple[int, float]]]:
    """The severity chart's lines and dots as (day index, average): a line joins two logged days
    only when they follow each other (a day with no entry is a gap), and every logged day has a
    dot, so a day alone between gaps still shows."""
    points = [(i, day["average"]) for i, day in enumerate(daily) if day["average"] is not None]
    segments = [(a, b) for a, b in itertools.pairwise(points) if b[0] == a[0] + 1]
    return segments, points


def axis_label(day: datetime.date, *, crosses_year: bool) -> str:
    """A date on the chart's axis: with its year when the window spans two years (the axis
    title carries the year otherwise)."""
    return day.isoformat() if crosses_year else day.strftime("%m-%d")


# --- Drawing --------------------------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(format="A4", unit="mm")
        self.doc = doc
        self.set_margins(MARGIN, MARGIN + 6, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.alias_nb_pages(PAGES_ALIAS)
        self.set_title(doc.title)
        self.set_author("MediTrack")
        self.set_creator("MediTrack")

    def header(self) -> None:
        self.set_y(MARGIN - 4)
        self.set_font(size=SMALL)
        self.set_text_color(*GREY)
        half = self.epw / 2
        self.cell(half, LINE[SMALL], self.doc.running_header)
        self.cell(half, LINE[SMALL], self.doc.period, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() + 0.5, self.l_margin + self.epw, self.get_y() + 0.5)
        self.set_text_color(0)
        self.set_y(MARGIN + 6)

    def footer(self) -> None:
        self.set_y(-MARGIN + 4)
        self.set_font(size=SMALL)
        self.set_text_color(*GREY)
        self.cell(self.epw - 28, LINE[SMALL], self.doc.generated)
        # Left-aligned in a box at the right edge: the alias is wider than the number it becomes.
        self.cell(28, LINE[SMALL], f"Page {self.page_no()} of {PAGES_ALIAS}")
        self.set_text_color(0)

    # -- helpers --

    def room(self, mm: float) -> None:
        """Start a new page unless ``mm`` still fits on this one."""
        if self.get_y() + mm > self.page_break_trigger:
            self.add_page()

    def lines(self, text: str, width: float, size: int) -> list[str]:
        self.set_font(size=size)
        return self.multi_cell(width, LINE[size], text, dry_run=True, output="LINES")

    def paragraph(self, text: str, size: int = BODY, *, muted: bool = False, indent: float = 0) -> None:
        self.set_font(size=size)
        if muted:
            self.set_text_color(*GREY)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, LINE[size], text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)

    def bullet(self, text: str) -> None:
        self.set_font(size=BODY)
        self.set_x(self.l_margin + 2)
        self.cell(4, LINE[BODY], "•")
        self.multi_cell(self.epw - 6, LINE[BODY], text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, following: float) -> None:
        self.room(2 + LINE[BODY] * 1.6 + following)  # keep the heading with what follows
        self.ln(2)
        self.set_font(style="B", size=HEADING)
        self.multi_cell(self.epw, LINE[BODY] * 1.6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(style="", size=BODY)

    def table(self, block: Table) -> None:
        widths = self._widths(block)
        rows = [r for row in block.rows for r in self._split_row(row, widths)]
        self.set_font(size=CELL)
        self.set_draw_color(*RULE)
        with super().table(
            width=sum(widths),
            col_widths=widths,
            align="LEFT",
            line_height=LINE[CELL],
            padding=CELL_PADDING,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
            text_align="LEFT",
            v_align="TOP",
        ) as table:
            for cells in [block.header, *rows]:
                row = table.row()
                for text in cells:
                    row.cell(text)
        self.ln(2)

    def _split_row(self, cells: list[str], widths: list[float]) -> list[list[str]]:
        """One row, or several when a cell is longer than ``MAX_CELL_LINES`` lines: the long
        cells continue in the rows below (a row taller than a page cannot be drawn)."""
        if not any(self._may_need_splitting(text, width) for text, width in zip(cells, widths, strict=True)):
            return [cells]
        split = [self._cell_lines(text, width) for text, width in zip(cells, widths, strict=True)]
        parts = max(math.ceil(len(lines) / MAX_CELL_LINES) for lines in split)
        if parts == 1:
            return [cells]
        rows = [
            ["\n".join(lines[i * MAX_CELL_LINES : (i + 1) * MAX_CELL_LINES]) for lines in split] for i in range(parts)
        ]
        for row in rows[1:]:
            row[0] = row[0] or CONTINUED
        return rows

    def chart(self, block: Chart) -> None:
        """Average severity per day: a line between days that follow each other, a gap over a day
        with no entry, a dot on every logged day (so a single day shows)."""
        height = CHART_HEIGHT
        self.room(height)
        top = self.get_y()
        self.set_font(size=SMALL)
        self.cell(self.epw, LINE[SMALL], "Average severity (1–10) per day", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        daily = block.daily
        if all(day["average"] is None for day in daily):
            self.set_text_color(*GREY)
            self.set_y(top + height / 2 - LINE[BODY])
            self.paragraph("No symptoms logged in this period.", muted=True)
            self.set_y(top + height)
            return
        left, plot_top = self.l_margin + 8, top + LINE[SMALL] + 2
        width, plot_height = self.epw - 10, height - LINE[SMALL] - 16
        bottom = plot_top + plot_height

        def x_at(i: int) -> float:
            return left + (i / (len(daily) - 1) * width if len(daily) > 1 else width / 2)

        def y_at(value: float) -> float:
            return bottom - value / 10 * plot_height

        self.set_line_width(0.1)
        self.set_draw_color(222, 226, 230)
        self.set_font(size=7)
        self.set_text_color(*GREY)
        for value in range(0, 11, 2):
            self.line(left, y_at(value), left + width, y_at(value))
            self.set_xy(left - 8, y_at(value) - 1.5)
            self.cell(6.5, 3, str(value), align="R")
        self.set_draw_color(*RULE)
        self.line(left, bottom, left + width, bottom)
        crosses_year = block.start.year != block.end.year
        step = max(1, math.ceil((len(daily) - 1) / (5 if crosses_year else 7)))
        ticks = list(range(0, len(daily), step))
        if len(daily) - 1 - ticks[-1] >= step * 0.6:  # the last day too, when its label has room
            ticks.append(len(daily) - 1)
        for i in ticks:
            day: datetime.date = daily[i]["date"]
            label = axis_label(day, crosses_year=crosses_year)
            self.line(x_at(i), bottom, x_at(i), bottom + 1)
            self.set_xy(x_at(i) - 12, bottom + 1.2)
            self.cell(24, 3, label, align="C")
        self.set_xy(left, bottom + 5)
        axis = "Date" if crosses_year else f"Date ({block.start.year})"
        self.cell(width, 3, axis, align="C")
        self.set_text_color(0)

        self.set_draw_color(*SEVERITY_RED)
        self.set_fill_color(*SEVERITY_RED)
        self.set_line_width(0.5)
        segments, markers = chart_marks(daily)
        for (i, a), (j, b) in segments:
            self.line(x_at(i), y_at(a), x_at(j), y_at(b))
        for i, value in markers:
            self.circle(x_at(i), y_at(value), MARKER_RADIUS, style="F")
        self.set_line_width(0.2)
        self.set_fill_color(255)
        self.set_draw_color(0)
        self.set_y(top + height)

    def draw(self) -> None:
        self.add_page()
        self.set_font(style="B", size=TITLE)
        self.multi_cell(self.epw, 9, self.doc.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        blocks = self.doc.blocks
        for index, block in enumerate(blocks):
            if isinstance(block, Heading):
                following = blocks[index + 1] if index + 1 < len(blocks) else None
                self.heading(block.text, self._first_height(following))
            elif isinstance(block, Para):
                self.paragraph(block.text, block.size, muted=block.muted)
            elif isinstance(block, Bullets):
                for item in block.items:
                    self.bullet(item)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Chart):
                self.chart(block)
            elif isinstance(block, Space):
                self.ln(block.mm)

    def _first_height(self, block: Block | None) -> float:
        """How much of ``block`` must stay with the heading above it."""
        if isinstance(block, Chart):
            return CHART_HEIGHT
        if isinstance(block, Table):  # its header row and its first row (fpdf2 repeats the header)
            widths = self._widths(block)
            rows = [block.header, *block.rows[:1]]
            return sum(self._row_height(cells, widths) for cells in rows)
        return KEEP_WITH_HEADING if block is not None else 0

    def _widths(self, block: Table) -> list[float]:
        return [fraction * self.epw for fraction in block.widths]

    def _row_height(self, cells: list[str], widths: list[float]) -> float:
        lines = max(len(self._cell_lines(text, width)) for text, width in zip(cells, widths, strict=True))
        return min(lines, MAX_CELL_LINES) * LINE[CELL] + 2 * CELL_PADDING

    def _may_need_splitting(self, text: str, width: float) -> bool:
        """False when ``text`` surely fits in ``MAX_CELL_LINES`` lines, without laying it out
        (fpdf2's line breaking is the slow part of the report): a line broken at a space is at
        least half full unless the next word is longer than half a line, and a word longer than
        a line is broken inside, filling its lines."""
        if not text:
            return False
        self.set_font(size=CELL)
        inner = width - 2 * CELL_PADDING
        most_lines = 2 * self.get_string_width(text) / inner + 1 + text.count("\n")
        return most_lines > MAX_CELL_LINES

    def _cell_lines(self, text: str, width: float) -> list[str]:
        return self.lines(text, width - 2 * CELL_PADDING, CELL) if text else [""]


_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xFEFF])


def printable(text: str) -> str:
    """``text`` as fpdf2 can draw it: line breaks as ``\\n``, a tab as a space, no other control
    character and no byte-order mark (HarfBuzz drops a BOM, and fpdf2 then fails on the empty
    run)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return text.translate(_CONTROLS)


def _printable_block(block: Block) -> Block:
    if isinstance(block, Heading | Para):
        return dataclasses.replace(block, text=printable(block.text))
    if isinstance(block, Bullets):
        return Bullets([printable(item) for item in block.items])
    if isinstance(block, Table):
        rows = [[printable(cell) for cell in row] for row in block.rows]
        return dataclasses.replace(block, header=[printable(h) for h in block.header], rows=rows)
    return block


def render(doc: Document) -> bytes:
    doc = dataclasses.replace(
        doc,
        running_header=printable(doc.running_header),
        blocks=[_printable_block(block) for block in doc.blocks],
    )
    with pdffonts.workdir() as workdir:
        pdf = _Pdf(doc)
        pdffonts.install(pdf, doc.texts(), workdir)
        pdf.draw()
        return bytes(pdf.output())


def build_health_report(*, data: dict[str, Any]) -> bytes:
    """The PDF for ``data`` (from ``selectors.report_data``)."""
    return render(report_document(data))
