"""The lean read path writes exactly what DRF's serializers would (same JSON, byte for byte)."""

import datetime

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from accounts.models import DataAccessLog
from accounts.serializers import AccessLogSerializer, ProfileSerializer
from accounts.tests.factories import DoctorFactory, PatientFactory
from core.renderers import JSONRenderer
from core.serializers import LeanReadMixin
from medications.models import Frequency
from medications.selectors import reminders_visible
from medications.serializers import MedicationSerializer, ReminderSerializer
from medications.tests.factories import MedicationFactory, ReminderFactory
from symptoms.models import Mood, Symptom
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
    # The per-process writer of GET profile writes what a serializer per response writes.
    for user in users:
        assert render(ProfileSerializer.write(user)) == render(ProfileSerializer(user).data)


def test_write_needs_a_context_free_serializer():
    user = PatientFactory()
    with pytest.raises(TypeError, match="lean_context_free"):
        MedicationSerializer.write(user)

    class Subclass(ProfileSerializer):  # the declaration is per class, never inherited
        pass

    with pytest.raises(TypeError, match="lean_context_free"):
        Subclass.write(user)


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


def test_the_plan_reads_annotations_and_refuses_a_relation_without_a_hook():
    class Annotated(LeanReadMixin, serializers.ModelSerializer):
        class Meta:
            model = Symptom
            fields = ("id", "patient", "medication_count")

    assert Annotated.lean_plan() == (
        ("id", "id", None),
        ("patient", "patient_id", None),
        ("medication_count", "medication_count", None),
    )

    class Related(LeanReadMixin, serializers.ModelSerializer):
        class Meta:
            model = Symptom
            fields = ("id", "related_medications")

    with pytest.raises(TypeError, match="lean_related_medications"):
        Related.lean_plan()


def test_a_values_read_needs_the_hooks_fields_last():
    class HookFirst(LeanReadMixin, serializers.ModelSerializer):
        class Meta:
            model = Mood
            fields = ("id", "mood_display", "mood")

        def lean_mood_display(self, mood):
            return mood.get_mood_display()

    with pytest.raises(TypeError, match="after every column"):
        HookFirst().lean_rows(Mood.objects.all())
