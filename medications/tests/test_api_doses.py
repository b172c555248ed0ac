"""Dose history, answering reminders, logging doses, the emailed confirmation link."""

import datetime

import pytest
from django.core import signing
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from medications.models import Reminder, ReminderKind, ReminderStatus
from medications.services import confirm_token
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db
URL = "/api/medications/reminders/"


@pytest.fixture
def assigned(doctor):
    return PatientFactory(assigned_doctor=doctor)


def test_history_shape_and_order(patient_client, patient):
    medication = MedicationFactory(patient=patient, name="Aspirin")
    older = ReminderFactory(medication=medication, scheduled_for=timezone.now() - datetime.timedelta(days=1))
    newer = ReminderFactory(medication=medication, status=ReminderStatus.TAKEN)
    ReminderFactory()  # a stranger's
    body = patient_client.get(URL).json()
    assert [r["id"] for r in body] == [newer.pk, older.pk]
    assert set(body[0]) == {
        "id", "medication", "medication_name", "kind", "scheduled_for", "status", "sent_at", "responded_at",
        "snoozed_until",
    }  # fmt: skip
    assert body[0]["medication_name"] == "Aspirin" and body[0]["medication"] == medication.pk
    assert body[0]["scheduled_for"].endswith("Z") or "+" in body[0]["scheduled_for"]


def test_history_filters_and_validation(patient_client):
    patient = PatientFactory(timezone="Asia/Kolkata")
    from conftest import client_for

    client = client_for(patient)
    a = MedicationFactory(patient=patient)
    b = MedicationFactory(patient=patient)
    # 2026-06-01 23:30 IST is 18:00 UTC the same day; 2026-06-02 00:30 IST is 19:00 UTC on June 1.
    late_on_1st = ReminderFactory(
        medication=a, scheduled_for=datetime.datetime(2026, 6, 1, 18, 0, tzinfo=datetime.UTC), status="taken"
    )
    early_on_2nd = ReminderFactory(
        medication=b, scheduled_for=datetime.datetime(2026, 6, 1, 19, 0, tzinfo=datetime.UTC), status="missed"
    )

    def ids(query):
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()]

    assert ids("status=taken") == [late_on_1st.pk]
    assert ids(f"medication={b.pk}") == [early_on_2nd.pk]
    assert ids("date_after=2026-06-02") == [early_on_2nd.pk]  # local (Kolkata) dates
    assert ids("date_before=2026-06-01") == [late_on_1st.pk]
    assert ids("date_after=2026-06-01&date_before=2026-06-02") == [early_on_2nd.pk, late_on_1st.pk]
    assert ids("date_after=1900-01-01&date_before=2100-12-31") == [early_on_2nd.pk, late_on_1st.pk]
    for bad in (
        "status=lost",
        "medication=xyz",
        "medication=1.5",
        "date_after=June",
        "ordering=status",
        "date_after=0001-01-01",  # outside the API's date range (core.validators)
        "date_before=9999-12-31",
    ):
        assert client.get(f"{URL}?{bad}").status_code == 400, bad


def test_history_query_count(patient_client, patient, django_assert_num_queries):
    for medication in MedicationFactory.create_batch(3, patient=patient):
        ReminderFactory.create_batch(3, medication=medication)
    with django_assert_num_queries(2):  # auth user, reminders with the medication name
        assert len(patient_client.get(URL).json()) == 9


def test_doctor_history_scoping_and_query_count(doctor_client, assigned, django_assert_num_queries):
    mine = ReminderFactory(medication=MedicationFactory(patient=assigned))
    other = ReminderFactory()
    # auth + the page + the audit trail (whose rows were read, then one insert)
    with django_assert_num_queries(4):
        assert [r["id"] for r in doctor_client.get(URL).json()] == [mine.pk]
    assert doctor_client.get(f"{URL}?patient={other.patient.pk}").status_code == 404
    assert doctor_client.post(f"{URL}{mine.pk}/taken/").status_code == 403
    assert doctor_client.post(f"{URL}{other.pk}/taken/").status_code == 403


def test_taken_and_skipped_are_idempotent_and_correctable(patient_client, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SENT)
    first = patient_client.post(f"{URL}{reminder.pk}/taken/")
    assert first.status_code == 200 and first.json()["status"] == "taken"
    second = patient_client.post(f"{URL}{reminder.pk}/taken")  # no trailing slash, no redirect
    assert second.status_code == 200 and second.json() == first.json()  # same state, same responded_at
    corrected = patient_client.post(f"{URL}{reminder.pk}/skipped/")
    assert corrected.status_code == 200 and corrected.json()["status"] == "skipped"
    back = patient_client.post(f"{URL}{reminder.pk}/taken/")
    assert back.json()["status"] == "taken"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.TAKEN and reminder.responded_at is not None


def test_missed_dose_can_still_be_answered(patient_client, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.MISSED)
    assert patient_client.post(f"{URL}{reminder.pk}/taken/").json()["status"] == "taken"


def test_answer_strangers_reminder_is_404_and_get_is_405(patient_client, patient):
    other = ReminderFactory()
    assert patient_client.post(f"{URL}{other.pk}/taken/").status_code == 404
    assert patient_client.post(f"{URL}{other.pk}/skipped/").status_code == 404
    mine = ReminderFactory(medication=MedicationFactory(patient=patient))
    assert patient_client.get(f"{URL}{mine.pk}/taken/").status_code == 405
    other.refresh_from_db()
    assert other.status == ReminderStatus.SENT


def test_log_an_as_needed_dose(patient_client, patient):
    medication = MedicationFactory(patient=patient, frequency="as_needed", name="Ibuprofen")
    response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "taken" and response.json()["kind"] == "logged"
    at = (timezone.now() - datetime.timedelta(hours=2)).isoformat()
    response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {"taken_at": at}, format="json")
    assert response.status_code == 201
    assert Reminder.objects.filter(kind=ReminderKind.LOGGED, status=ReminderStatus.TAKEN).count() == 2
    history = patient_client.get(URL).json()
    assert [r["medication_name"] for r in history] == ["Ibuprofen", "Ibuprofen"]
    # A logged dose is not a "skipped" candidate.
    assert patient_client.post(f"{URL}{history[0]['id']}/skipped/").status_code == 400


@pytest.mark.parametrize(
    "taken_at",
    [(datetime.timedelta(hours=2)), "yesterday"],
)
def test_log_dose_validation(patient_client, patient, taken_at):
    medication = MedicationFactory(patient=patient)
    value = (timezone.now() + taken_at).isoformat() if isinstance(taken_at, datetime.timedelta) else taken_at
    response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {"taken_at": value}, format="json")
    assert response.status_code == 400 and "taken_at" in response.json()


def test_log_dose_before_start_date_is_400(patient_client, patient):
    medication = MedicationFactory(patient=patient, start_date=timezone.now().date() + datetime.timedelta(days=5))
    response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {}, format="json")
    assert response.status_code == 400


# --- The emailed confirmation link ------------------------------------------------------------


def confirm_url(token: str) -> str:
    return f"{URL}confirm/{token}/"


def test_confirm_get_shows_a_button_and_changes_nothing(anon, patient):
    medication = MedicationFactory(patient=patient, name="Tom & <Jerry", dosage="1 tab")
    reminder = ReminderFactory(medication=medication, status=ReminderStatus.SENT)
    response = anon.get(confirm_url(confirm_token(reminder.pk)))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<form method="post">' in html and "Tom &amp; &lt;Jerry" in html
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT


def test_confirm_post_marks_taken_idempotently(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SENT)
    url = confirm_url(confirm_token(reminder.pk))
    response = anon.post(url)
    assert response.status_code == 200 and "Recorded as taken" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.TAKEN
    responded_at = reminder.responded_at
    assert anon.post(url.rstrip("/")).status_code == 200
    reminder.refresh_from_db()
    assert reminder.responded_at == responded_at
    assert "already recorded as taken" in anon.get(url).content.decode()


def test_confirm_post_corrects_a_skipped_dose(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SKIPPED)
    anon.post(confirm_url(confirm_token(reminder.pk)))
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.TAKEN


def test_confirm_rejects_bad_tokens_with_a_page(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SENT)
    token = confirm_token(reminder.pk)
    forged = signing.dumps({"r": reminder.pk}, salt="another-salt")
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        for method in (anon.get, anon.post):
            response = method(confirm_url(bad))
            assert response.status_code == 400
            assert response["Content-Type"].startswith("text/html")
            assert "This link is not valid" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT


def test_confirm_with_an_expired_token_is_403_and_changes_nothing(anon, patient, monkeypatch):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SENT)
    token = confirm_token(reminder.pk)
    # 24 hours and one second later the genuine token has expired.
    import time

    real_time = time.time()
    monkeypatch.setattr(time, "time", lambda: real_time + 24 * 3600 + 1)
    for method in (anon.get, anon.post):
        response = method(confirm_url(token))
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        assert "This link has expired" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT


def test_confirm_for_a_deleted_reminder_is_404_page(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    token = confirm_token(reminder.pk)
    reminder.delete()
    for method in (anon.get, anon.post):
        response = method(confirm_url(token))
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert "no longer exists" in response.content.decode()


def test_confirm_a_dose_not_due_yet_is_a_page_not_a_500(anon, patient):
    """A ValidationError from the service ("This dose is not due yet.") used to escape the plain
    Django view as a 500."""
    later = timezone.now() + datetime.timedelta(hours=3)
    reminder = ReminderFactory(
        medication=MedicationFactory(patient=patient), status=ReminderStatus.PENDING, scheduled_for=later
    )
    url = confirm_url(confirm_token(reminder.pk))
    page = anon.get(url)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "not due yet" in page.content.decode() and "<form" not in page.content.decode()
    response = anon.post(url)
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "This dose is not due yet." in html and "<form" not in html
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING and reminder.responded_at is None


def test_confirm_an_already_taken_dose_says_so(anon, patient):
    answered = timezone.now() - datetime.timedelta(minutes=30)
    reminder = ReminderFactory(
        medication=MedicationFactory(patient=patient), status=ReminderStatus.TAKEN, responded_at=answered
    )
    url = confirm_url(confirm_token(reminder.pk))
    for method in (anon.get, anon.post):
        response = method(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "already recorded as taken" in html and "<form" not in html
    reminder.refresh_from_db()
    assert reminder.responded_at == answered


def test_confirm_a_skipped_dose_offers_the_correction(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SKIPPED)
    page = anon.get(confirm_url(confirm_token(reminder.pk)))
    assert page.status_code == 200
    html = page.content.decode()
    assert "recorded as skipped" in html and '<form method="post">' in html
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SKIPPED


def test_confirm_any_refusal_of_the_service_is_a_page(anon, patient, monkeypatch):
    """Whatever the service refuses with a ValidationError is shown, never a 500."""
    from django.core.exceptions import ValidationError

    from medications import views

    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.SENT)

    def refuse(**kwargs):
        raise ValidationError("Something about this dose changed.")

    monkeypatch.setattr(views.services, "reminder_answer", refuse)
    response = anon.post(confirm_url(confirm_token(reminder.pk)))
    assert response.status_code == 409 and "Something about this dose changed." in response.content.decode()
