"""The PDF report's layout: running header and page numbers, headings kept with what follows,
the real schedule and notes of each medication, singular words, the chart's axis, gaps and
dots, and cells longer than a page."""

from __future__ import annotations

import datetime
import decimal
import io

import pytest
from pypdf import PdfReader

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications.tests.factories import MedicationFactory
from summaries import reports, selectors
from summaries.reports import drawing
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/reports/export/"
LONG_NOTES = {
    "capitals": ("HEADACHE WORSE AFTER LUNCH " * 80)[:2000],
    "cyrillic": ("Головная боль усилилась после обеда " * 60)[:2000],
    "cjk": ("头痛在午饭后加重" * 250)[:2000],
}


def pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def _day(patient, n: int) -> datetime.date:
    return patient.local_today() - datetime.timedelta(days=n)


def _document(blocks: list) -> reports.Document:
    return reports.Document(
        title="MediTrack health report",
        running_header="MediTrack health report · Ana Smith",
        period="2026-01-01 to 2026-01-30",
        generated="Generated 2026-01-30 10:00 UTC",
        blocks=blocks,
    )


def _content_lines(page_text: str) -> list[str]:
    """A page's lines without its running header (first line) and footer (last line)."""
    return [line.strip() for line in page_text.splitlines()[1:-1] if line.strip()]


def test_every_page_has_the_running_header_and_its_number(patient):
    patient.first_name, patient.last_name = "Анна", "Іваненко"
    patient.save()
    for n in range(60):
        SymptomFactory(patient=patient, name=f"Symptom {n}", severity=1 + n % 10, date=_day(patient, n % 30))
    texts = pages(client_for(patient).get(URL, {"days": 30}).content)
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        lines = text.splitlines()
        assert lines[0].startswith("MediTrack health report · Анна Іваненко")
        assert lines[-1].rstrip().endswith(f"Page {number} of {len(texts)}")


@pytest.mark.parametrize("filler_lines", range(34, 52, 2))
def test_no_heading_is_left_alone_at_a_page_foot(filler_lines):
    """Whatever amount of text comes before, a heading starts the page its table (header and
    first row, here a tall one) starts on; a heading before a paragraph keeps some of it."""
    filler = [reports.Para(f"Line {i}") for i in range(filler_lines)]
    table = reports.Table(["Date", "Notes"], [["2026-01-02", "word " * 150], ["2026-01-03", "short"]], [0.3, 0.7])
    doc = _document([*filler, reports.Heading("Symptom log"), table, reports.Heading("Mood"), reports.Para("ok")])
    for text in pages(reports.render(doc)):
        lines = _content_lines(text)
        assert lines[-1] not in ("Symptom log", "Date Notes", "Mood"), lines[-3:]
        if "Symptom log" in lines:
            assert lines[lines.index("Symptom log") + 1 :][:2][-1].startswith("2026-01-02")


def test_medications_show_their_schedule_and_notes(patient):
    MedicationFactory(patient=patient, name="Metformin", frequency="twice_daily", notes="Take with food & water")
    MedicationFactory(
        patient=patient, name="Levothyroxine", frequency="custom", custom_schedule=["22:15", "06:30"], notes=""
    )
    MedicationFactory(patient=patient, name="Ibuprofen", frequency="as_needed")
    doc = reports.report_document(selectors.report_data(patient=patient, days=7))
    (table,) = [b for b in doc.blocks if isinstance(b, reports.Table) and b.header[0] == "Medication"][:1]
    assert table.header[2] == "Frequency" and table.header[4] == "Notes"
    rows = {row[0]: row for row in table.rows}
    assert rows["Metformin"][2] == "Twice daily at 08:00, 20:00"
    assert rows["Levothyroxine"][2] == "Daily at 06:30, 22:15"
    assert rows["Ibuprofen"][2] == "As needed"
    assert rows["Metformin"][4] == "Take with food & water"
    text = "\n".join(pages(client_for(patient).get(URL, {"days": 7}).content))
    assert "Take with food & water" in text and "Twice daily at" in text


def _medication(**fields):
    base = {
        "frequency": "once_daily",
        "frequency_label": "Once daily",
        "reminder_times": ["08:00"],
        "start_date": datetime.date(2026, 3, 2),
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "Once daily at 08:00"),
        ({"frequency": "as_needed", "reminder_times": []}, "As needed"),
        ({"frequency": "custom", "reminder_times": ["07:30", "19:30"]}, "Daily at 07:30, 19:30"),
        ({"days_of_week": ["mon"], "dose_quantity": "15", "dose_unit": "mg"}, "At 08:00, on Mon, 15 × mg"),
        (
            {"frequency": "custom", "reminder_times": ["09:00"], "days_of_week": ["mon", "thu"]},
            "At 09:00, on Mon, Thu",
        ),
        ({"every_n_days": 3}, "At 08:00, every 3 days from 2026-03-02"),
        ({"cycle_on_days": 21, "cycle_off_days": 7}, "Once daily at 08:00, 21 days on, 7 days off from 2026-03-02"),
        (
            {"frequency": "interval", "interval_hours": 8, "reminder_times": ["08:00", "16:00"]},
            "Every 8 hours at 08:00, 16:00",
        ),
        (
            {
                "dose_unit": "tablet",
                "taper": [{"from_day": 0, "dose_quantity": 4}, {"from_day": 7, "dose_quantity": 2.5}],
            },
            "Once daily at 08:00, tapering (tablet): 4 from day 0; 2.5 from day 7",
        ),
        ({"dose_quantity": "1.00", "dose_unit": "dose", "every_n_days": 1}, "Once daily at 08:00"),
    ],
)
def test_the_frequency_column_says_the_whole_schedule(fields, expected):
    assert reports.schedule_text(_medication(**fields)) == expected


def test_real_regimens_reach_the_frequency_column(patient):
    MedicationFactory(
        patient=patient, name="Methotrexate", days_of_week=["mon"], dose_quantity=decimal.Decimal("2.5"), dose_unit="mg"
    )
    MedicationFactory(patient=patient, name="Pill", cycle_on_days=21, cycle_off_days=7)
    MedicationFactory(
        patient=patient,
        name="Amoxicillin",
        frequency="interval",
        interval_hours=8,
        interval_start=datetime.time(6, 0),
        interval_end=datetime.time(22, 0),
    )
    MedicationFactory(
        patient=patient,
        name="Prednisone",
        dose_unit="tablet",
        taper=[{"from_day": 0, "dose_quantity": 4}, {"from_day": 5, "dose_quantity": 2}],
    )
    doc = reports.report_document(selectors.report_data(patient=patient, days=7))
    (table,) = [b for b in doc.blocks if isinstance(b, reports.Table) and b.header[0] == "Medication"]
    rows = {row[0]: row[2] for row in table.rows}
    assert rows["Methotrexate"] == "At 08:00, on Mon, 2.5 × mg"
    assert rows["Pill"].startswith("Once daily at 08:00, 21 days on, 7 days off from ")
    assert rows["Amoxicillin"] == "Every 8 hours at 06:00, 14:00, 22:00"
    assert rows["Prednisone"] == "Once daily at 08:00, tapering (tablet): 4 from day 0; 2 from day 5"


def test_one_of_a_kind_is_singular(patient):
    MoodFactory(patient=patient, mood=4)
    text = "\n".join(pages(client_for(patient).get(URL, {"days": 1}).content))
    assert "over 1 logged day." in text
    assert "(1 day, " in text
    assert "1 logged days" not in text and "(1 days" not in text


def test_axis_has_the_year_when_the_window_crosses_one():
    start, end = datetime.date(2025, 12, 20), datetime.date(2026, 1, 10)
    daily = [{"date": start + datetime.timedelta(days=i), "average": 5.0, "count": 1} for i in range(22)]
    text = pages(reports.render(_document([reports.Chart(daily, start, end)])))[0]
    assert "2025-12-20" in text and "2026-01-" in text
    assert reports.axis_label(start, crosses_year=True) == "2025-12-20"


def test_axis_names_the_year_once_within_one_year():
    start, end = datetime.date(2026, 3, 1), datetime.date(2026, 3, 30)
    daily = [{"date": start + datetime.timedelta(days=i), "average": 5.0, "count": 1} for i in range(30)]
    text = pages(reports.render(_document([reports.Chart(daily, start, end)])))[0]
    assert "Date (2026)" in text and "03-01" in text
    assert "2026-03-01" not in text.replace("Date (2026)", "")


def _daily(*averages):
    start = datetime.date(2026, 3, 1)
    return [
        {"date": start + datetime.timedelta(days=i), "average": a, "count": int(a is not None)}
        for i, a in enumerate(averages)
    ]


def test_chart_lines_skip_days_with_no_entry():
    segments, markers = reports.chart_marks(_daily(4.0, 5.0, None, 6.0, 7.0))
    assert segments == [((0, 4.0), (1, 5.0)), ((3, 6.0), (4, 7.0))]
    assert markers == [(0, 4.0), (1, 5.0), (3, 6.0), (4, 7.0)]


def test_a_single_logged_day_is_a_visible_dot(monkeypatch):
    segments, markers = reports.chart_marks(_daily(None, 3.0, None))
    assert segments == [] and markers == [(1, 3.0)]
    dots = []
    real_circle = drawing.Pdf.circle

    def circle(self, x, y, radius, style=None):
        dots.append((radius, style))
        return real_circle(self, x, y, radius, style=style)

    monkeypatch.setattr(drawing.Pdf, "circle", circle)
    reports.render(
        _document([reports.Chart(_daily(None, 3.0, None), datetime.date(2026, 3, 1), datetime.date(2026, 3, 3))])
    )
    assert dots == [(reports.MARKER_RADIUS, "F")]


@pytest.mark.parametrize("kind", LONG_NOTES)
def test_a_2000_character_note_is_split_across_rows_not_a_500(patient, kind):
    note = LONG_NOTES[kind]
    SymptomFactory(patient=patient, name="Headache", severity=7, notes=note)
    MedicationFactory(patient=patient, name="Aspirin", notes=note)
    response = client_for(patient).get(URL, {"days": 7})
    assert response.status_code == 200
    text = "".join(pages(response.content)).replace("\n", "").replace(" ", "")
    assert reports.CONTINUED in "".join(pages(response.content))
    squeezed = note.replace(" ", "")
    assert squeezed[:20] in text and squeezed[-12:] in text


def test_report_query_count_is_fixed():
    """Whatever the amount of data: patient reads are a fixed set of queries (the insight of the
    window included)."""

    def queries(patient) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            selectors.report_data(patient=patient, days=30)
        return len(captured)

    small, large = PatientFactory(), PatientFactory()
    MedicationFactory(patient=small, notes="n")
    SymptomFactory(patient=small)
    for n in range(40):
        MedicationFactory(patient=large, notes="note " * 50, frequency="custom", custom_schedule=["07:00", "19:00"])
        SymptomFactory(patient=large, date=_day(large, n % 30), notes="x" * 300)
        if n < 30:
            MoodFactory(patient=large, date=_day(large, n))
    assert queries(small) == queries(large)


@pytest.mark.parametrize(
    "note",
    [
        "\ufeffpasted with a byte-order mark",
        "tab\tand\r\nWindows line ends\rand a form feed\x0c",
        "emoji 🤒 and a lone zero-width space \u200b",
        "\u200f صداع \u200e with direction marks",
    ],
)
def test_odd_characters_in_user_text_are_not_a_500(patient, note):
    SymptomFactory(patient=patient, name="Headache", severity=4, notes=note)
    response = client_for(patient).get(URL, {"days": 7})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_printable_keeps_line_breaks_and_drops_control_characters():
    assert reports.printable("\ufeffa\tb\r\nc\rd\x00e\x0c\x85f") == "a b\nc\nde" + "f"
