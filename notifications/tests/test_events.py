"""Which domain change becomes which live event, for whom, with what data."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from core.tests.servers import due_now
from medications import services
from medications.events import stock_low
from medications.models import Reminder, ReminderStatus
from medications.serializers import ReminderSerializer
from medications.tests.factories import MedicationFactory, ReminderFactory
from notifications import live
from notifications import services as notification_services

pytestmark = pytest.mark.django_db

REMINDER_FIELDS = set(ReminderSerializer.Meta.fields)  # the dose history's shape


@pytest.fixture
def published(monkeypatch, settings):
    settings.LIVE_EVENTS_THROUGH_DATABASE = False  # as with Redis: someone may be listening
    sent: list[tuple[list[int], str, dict]] = []
    monkeypatch.setattr(
        live, "publish_many", lambda events: sent.extend((sorted(e.user_ids), e.event_type, e.data) for e in events)
    )
    return sent


def test_the_sweep_sends_dose_due_once_per_dose(published, patient, django_capture_on_commit_callbacks):
    due_now(patient, name="Metformin")
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep()
        services.sweep()
    reminder = Reminder.objects.get()
    assert [(users, kind) for users, kind, _ in published] == [([patient.pk], "dose.due")]
    data = published[0][2]
    assert set(data) == REMINDER_FIELDS | {"patient", "dosage", "local_time"}
    assert data["id"] == reminder.pk
    assert data["medication_name"] == "Metformin" and data["dosage"] == "500 mg"
    assert data["status"] == ReminderStatus.SENT
    assert data["local_time"] == reminder.scheduled_for.astimezone(patient.tzinfo).strftime("%H:%M")


def test_api_answer_goes_to_the_patient_and_the_assigned_doctor(published, django_capture_on_commit_callbacks):
    doctor = DoctorFactory()
    patient = PatientFactory(assigned_doctor=doctor)
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient, name="Aspirin"))
    client = client_for(patient)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/medications/reminders/{reminder.pk}/taken/").status_code == 200
        assert client.post(f"/api/medications/reminders/{reminder.pk}/taken/").status_code == 200  # no change
    assert len(published) == 1
    users, kind, data = published[0]
    assert (users, kind) == (sorted([patient.pk, doctor.pk]), "dose.updated")
    # What the dose history shows the doctor, plus whose dose it is: nothing more.
    assert set(data) == REMINDER_FIELDS | {"patient"}
    assert data["status"] == "taken" and data["patient"] == patient.pk and data["medication_name"] == "Aspirin"
    history = client_for(doctor).get(f"/api/medications/reminders/?patient={patient.pk}").json()
    assert {key: value for key, value in data.items() if key != "patient"} == history[0]


def test_unverified_doctor_gets_nothing(published, django_capture_on_commit_callbacks):
    doctor = DoctorFactory(is_verified_doctor=False)
    patient = PatientFactory(assigned_doctor=doctor)
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    with django_capture_on_commit_callbacks(execute=True):
        services.reminder_answer(reminder=reminder, status=ReminderStatus.SKIPPED)
    assert [users for users, _, _ in published] == [[patient.pk]]


def test_email_link_answer_sends_dose_updated(published, patient, client, django_capture_on_commit_callbacks):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    url = f"/api/medications/reminders/confirm/{services.confirm_token(reminder.pk)}/"
    client.get(url)  # a mail scanner's GET changes nothing and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 200
    assert [(users, kind, data["status"]) for users, kind, data in published] == [
        ([patient.pk], "dose.updated", "taken")
    ]


def test_logged_dose_sends_dose_updated(published, patient, patient_client, django_capture_on_commit_callbacks):
    medication = MedicationFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {}, format="json")
    assert response.status_code == 201
    assert [(kind, data["id"], data["kind"]) for _, kind, data in published] == [
        ("dose.updated", response.json()["id"], "logged")
    ]


def test_stock_low_hook(published, patient, patient_client, django_capture_on_commit_callbacks):
    medication = MedicationFactory(
        patient=patient, name="Levothyroxine", dosage="50 mcg", stock_quantity=Decimal("2.5"), refill_threshold_days=7
    )
    stock_low.send(sender=type(medication), medication_id=medication.pk, patient_id=patient.pk)
    users, kind, data = published[0]
    assert (users, kind) == ([patient.pk], "stock.low")
    shown = patient_client.get(f"/api/medications/{medication.pk}/").json()
    assert shown["days_of_supply"] is not None  # the stock fields as the medication object shows them
    assert data == {
        "medication": medication.pk,
        "medication_name": "Levothyroxine",
        "dosage": "50 mcg",
        **{key: shown[key] for key in ("stock_quantity", "days_of_supply", "runs_out_on")},
    }


def test_insight_task_sends_insight_ready(published, patient, settings, django_capture_on_commit_callbacks):
    from symptoms.insights.tasks import precompute_insights_batch
    from symptoms.tests.factories import SymptomFactory

    settings.GEMINI_API_KEY = ""
    SymptomFactory(patient=patient, date=timezone.now().date() - datetime.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert precompute_insights_batch([patient.pk]) == 1
        precompute_insights_batch([patient.pk])  # already cached: no second event
    assert len(published) == 1
    users, kind, data = published[0]
    assert (users, kind) == ([patient.pk], "insight.ready")
    assert data["patient"] == patient.pk and data["source"] == "local" and data["analyzed_period"]


def test_a_failing_receiver_never_fails_the_answer(monkeypatch, patient, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise RuntimeError("layer down")

    monkeypatch.setattr(live, "publish", broken)
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    with django_capture_on_commit_callbacks(execute=True):
        services.reminder_answer(reminder=reminder, status=ReminderStatus.TAKEN)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.TAKEN


def test_due_doses_cost_no_query_when_nobody_listens_or_subscribed(settings, tmp_path, django_assert_num_queries):
    """The sweep sends one dose_due per batch of due doses: with no ws connection (embedded
    default) and no push subscription anywhere, the receiver asks the database once, then not at
    all."""
    from notifications.receivers import on_dose_due

    settings.LIVE_EVENTS_THROUGH_DATABASE = True
    settings.VAR_DIR = tmp_path  # no ws process heartbeat here
    reminders = [ReminderFactory() for _ in range(3)]
    with django_assert_num_queries(1):  # "is there any push subscription?"
        for reminder in reminders:
            on_dose_due(sender=Reminder, reminder_ids=[reminder.pk])


def test_stock_and_insight_events_cost_nothing_when_nobody_listens(
    settings, tmp_path, monkeypatch, django_assert_num_queries
):
    """Like a due dose: with no ws connection on the embedded default, no query and no cache read."""
    from notifications.receivers import on_insight_ready, on_stock_low
    from symptoms.insights import cache as insight_cache

    settings.LIVE_EVENTS_THROUGH_DATABASE = True
    settings.VAR_DIR = tmp_path  # no ws process heartbeat here
    medication = MedicationFactory()
    store = insight_cache.store()
    reads = []
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda *args, **kwargs: reads.append(args) or real_get(*args, **kwargs))
    with django_assert_num_queries(0):
        on_stock_low(sender=type(medication), medication_id=medication.pk, patient_id=medication.patient_id)
        on_insight_ready(sender=None, patient_id=medication.patient_id)
    assert reads == []


@pytest.mark.parametrize("doses", [1, 6])
def test_a_batch_of_due_doses_costs_one_query_whatever_its_size(published, doses, django_assert_num_queries):
    """With someone possibly listening (Redis), a batch's events are read in one query and
    published in one hand-off, one event per dose to its own patient."""
    from notifications.receivers import on_dose_due

    reminders = [ReminderFactory() for _ in range(doses)]
    with django_assert_num_queries(2):  # "any push subscription?", the batch's doses with their owners
        on_dose_due(sender=Reminder, reminder_ids=[reminder.pk for reminder in reminders])
    assert [(users, kind, data["id"]) for users, kind, data in published] == [
        ([reminder.patient_id], "dose.due", reminder.pk) for reminder in reminders
    ]


def test_the_sweep_with_listeners_costs_the_same_queries_for_more_doses(published, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_of_a_sweep(doses: int) -> int:
        Reminder.objects.all().delete()
        for _ in range(doses):
            due_now(PatientFactory())
        notification_services.forget_push_check()  # "nobody subscribed" is remembered a few seconds
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
            result = services.sweep()
        assert result.sent == doses
        return len(captured)

    assert queries_of_a_sweep(2) == queries_of_a_sweep(12)
    assert len(published) == 14
