import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications.models import Reminder, ReminderStatus
from medications.tests.factories import MedicationFactory
from summaries import reports, selectors
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/reports/export/"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def tricky_patient(doctor):
    return PatientFactory(first_name="Tom &", last_name="<Jerry", assigned_doctor=doctor, timezone="Europe/Paris")


def test_report_downloads_and_reads(tricky_patient):
    today = tricky_patient.local_today()
    medication = MedicationFactory(patient=tricky_patient, name="Ibuprofen <forte>", dosage="200 mg")
    SymptomFactory(patient=tricky_patient, name="Headache", severity=7, notes="a & b < c", date=today)
    SymptomFactory(patient=tricky_patient, name="Nausea", severity=3, date=today - datetime.timedelta(days=3))
    MoodFactory(patient=tricky_patient, mood=2, date=today)
    Reminder.objects.create(
        medication=medication,
        patient=tricky_patient,
        scheduled_for=timezone.now() - datetime.timedelta(hours=6),
        status=ReminderStatus.TAKEN,
    )

    response = client_for(tricky_patient).get(URL, {"days": 7})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Tom & <Jerry" in text
    start = (today - datetime.timedelta(days=6)).isoformat()
    assert f"Period: {start} to {today.isoformat()}" in text
    assert "Ibuprofen <forte>" in text
    assert "200 mg" in text
    assert "Adherence: 100.0%" in text
    assert "Headache" in text and "7/10" in text
    assert "a & b < c" in text
    assert "Average mood: 2.0/5" in text
    assert "Symptom severity over time" in text
    assert "not medical advice" in text
    assert "Insight for this period" in text


def test_report_has_a_drawn_chart(tricky_patient):
    SymptomFactory(patient=tricky_patient, severity=6)
    content = client_for(tricky_patient).get(URL, {"days": 7}).content
    # The chart's axis labels are drawn text, the line is vector graphics in the page.
    assert "Average severity (1–10) per day" in pdf_text(content)


def test_report_with_no_data_still_renders(patient_client):
    response = patient_client.get(URL)
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "No current medications." in text
    assert "No symptoms logged in this period." in text
    assert "No moods logged in this period." in text
    assert "n/a" in text


def test_report_renders_its_insight_without_internal_words(tricky_patient):
    data = selectors.report_data(patient=tricky_patient, days=7)
    data["insight"] = {
        "insight": "Headaches & <fatigue> rose midweek.",
        "analyzed_period": "2026-03-01 to 2026-03-07",
        "source": "local",
        "recommendations": ["Keep logging & <resting>."],
    }
    text = pdf_text(reports.build_health_report(data=data))
    assert "Insight for this period" in text
    assert "Headaches & <fatigue> rose midweek." in text
    assert "Keep logging & <resting>." in text
    assert "2026-03-01 to 2026-03-07" in text
    assert "built-in statistical analysis" in text
    assert "Source" not in text and "local" not in text


@pytest.mark.parametrize("days", ["abc", "-1", "0", "366", str(10**9)])
def test_bad_days_is_a_json_400(patient_client, days):
    response = patient_client.get(URL, {"days": days}, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "days" in response.json()


def test_pdf_accept_header_is_fine(patient_client):
    response = patient_client.get(URL, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_doctor_access(doctor_client, tricky_patient, other_patient):
    assert doctor_client.get(URL).status_code == 400
    response = doctor_client.get(URL, {"patient": tricky_patient.pk, "days": 30})
    assert response.status_code == 200
    assert "Tom & <Jerry" in pdf_text(response.content)
    assert doctor_client.get(URL, {"patient": other_patient.pk}).status_code == 404
    assert client_for(other_patient).get(URL, {"patient": tricky_patient.pk}).status_code == 404


def test_anonymous_is_401(anon):
    assert anon.get(URL).status_code == 401


def test_long_symptom_logs_are_capped_and_say_so(patient, patient_client, monkeypatch):
    monkeypatch.setattr(selectors, "REPORT_SYMPTOM_LIMIT", 3)
    for severity in range(1, 6):
        SymptomFactory(patient=patient, severity=severity)
    text = pdf_text(patient_client.get(URL, {"days": 7}).content)
    assert "The latest 3 of 5 entries in this period." in text


def test_report_query_count_does_not_grow(patient, patient_client):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert patient_client.get(URL, {"days": 30}).status_code == 200
        return len(captured)

    MedicationFactory(patient=patient)
    SymptomFactory(patient=patient)
    MoodFactory(patient=patient)
    first = count()
    for offset in range(1, 25):
        MedicationFactory(patient=patient)
        SymptomFactory(patient=patient, date=patient.local_today() - datetime.timedelta(days=offset))
        MoodFactory(patient=patient, date=patient.local_today() - datetime.timedelta(days=offset))
    assert count() == first


def test_report_insight_is_the_reports_own_window_not_a_cached_7_day_one(patient):
    SymptomFactory(
        patient=patient, name="Migraine", severity=8, date=patient.local_today() - datetime.timedelta(days=20)
    )
    SymptomFactory(patient=patient, name="Migraine", severity=7)
    client = client_for(patient)
    week = client.get("/api/symptoms/ai_insights/?days=7").json()
    assert week["symptom_count"] == 1
    text = pdf_text(client.get(URL, {"days": 30}).content)
    start, end = patient.local_days(30)
    assert f"Period analysed: {start.isoformat()} to {end.isoformat()}" in text
    assert week["analyzed_period"] not in text
    assert "Over the last 30 days you logged 2 symptoms" in text


def test_report_uses_a_cached_insight_of_the_same_window(patient):
    SymptomFactory(patient=patient, name="Migraine", severity=8)
    client = client_for(patient)
    client.get("/api/symptoms/ai_insights/?days=7")
    cached = selectors.cached_insight(patient=patient, days=7)
    cached["insight"] = "The cached answer for these 7 days."
    from symptoms.insights import cache as insight_cache
    from symptoms.insights.services import insight_key

    insight_cache.store().set(insight_key(patient=patient, days=7), cached)
    assert "The cached answer for these 7 days." in pdf_text(client.get(URL, {"days": 7}).content)
