"""Drawing the report's blocks with fpdf2: the running header and page numbers, headings kept
with what follows them, tables whose long cells continue in the rows below, the severity chart."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import math
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import TableHeadingsDisplay, XPos, YPos

from summaries.reports.content import (
    BODY,
    CELL,
    HEADING,
    SMALL,
    TITLE,
    Block,
    Bullets,
    Chart,
    Document,
    Heading,
    Para,
    Space,
    Table,
)

PAGES_ALIAS = "{meditrack-pages}"  # replaced by the page count (a user's "{nb}" stays as typed)

MARGIN = 18  # mm
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


class Pdf(FPDF):
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


def printable_document(doc: Document) -> Document:
    """``doc`` with every string as fpdf2 can draw it (see ``printable``)."""
    return dataclasses.replace(
        doc,
        running_header=printable(doc.running_header),
        blocks=[_printable_block(block) for block in doc.blocks],
    )
