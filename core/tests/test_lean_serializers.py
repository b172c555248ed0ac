"""The lean read path writes exactly what DRF's serializers would (same JSON, byte for byte)."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from accounts.models import DataAccessLog
from accounts.serializers import AccessLogSerializer, ProfileSerializer
from accounts.tests.factories import DoctorFactory, PatientFactory
from core.renderers import JSONRenderer
from medications.models import Frequency
from medications.selectors import reminders_visible
from medications.serializers import MedicationSerializer, ReminderSerializer
from medications.tests.factories import MedicationFactory, ReminderFactory
from symptoms.serializers import MoodSerializer, SymptomSerializer
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db


def render(data) -> bytes:
    return JSONRenderer().render(data)


def assert_same(serializer_class, instances, **context):
    request = APIRequestFactory().get("/")
    serializer = serializer_class(context={"request": request, **context})
    for instance in instances:
        assert render(serializer.to_representation(instance)) == render(serializer.drf_representation(instance))


def test_profile():
    doctor = DoctorFactory(first_name="Ann", last_name="Lee")
    users = [
        PatientFactory(assigned_doctor=doctor, date_of_birth=datetime.date(1980, 2, 29), phone="+1 555 0100"),
        PatientFactory(first_name="Tom &", last_name="<3"),
        doctor,
    ]
    assert_same(ProfileSerializer, users)


def test_medications():
    patient = PatientFactory(timezone="Pacific/Kiritimati")
    rows = [
        MedicationFactory(patient=patient),
        MedicationFactory(patient=patient, frequency=Frequency.CUSTOM, custom_schedule=["07:15", "21:30"]),
        MedicationFactory(patient=patient, frequency=Frequency.AS_NEEDED, end_date=datetime.date(2030, 1, 1)),
        MedicationFactory(patient=patient, is_active=False, notes="x & y"),
    ]
    assert_same(MedicationSerializer, rows)


def test_reminders():
    medication = MedicationFactory()
    ReminderFactory(medication=medication, sent_at=timezone.now(), responded_at=timezone.now())
    ReminderFactory(medication=medication, scheduled_for=timezone.now() - datetime.timedelta(days=2))
    assert_same(ReminderSerializer, reminders_visible(user=medication.patient))


def test_symptoms_and_moods():
    patient = PatientFactory()
    medications = [MedicationFactory(patient=patient), MedicationFactory(patient=patient)]
    symptoms = [SymptomFactory(patient=patient, related_medications=medications), SymptomFactory(patient=patient)]
    assert_same(SymptomSerializer, symptoms)
    assert_same(MoodSerializer, [MoodFactory(patient=patient, mood=5, notes="good day")])


def test_access_log():
    patient, doctor = PatientFactory(), DoctorFactory()
    rows = [
        DataAccessLog.objects.create(doctor=doctor, doctor_name="Dr & Co", patient=patient, resource="export"),
        DataAccessLog.objects.create(doctor=None, doctor_name="Gone", patient=patient, resource="symptoms"),
    ]
    assert_same(AccessLogSerializer, rows)
