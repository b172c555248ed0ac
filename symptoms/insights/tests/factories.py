"""Factories for the insight tests (kept here so they do not collide with the app's own)."""

import datetime

import factory

from accounts.tests.factories import PatientFactory
from medications.models import Frequency, Medication
from symptoms.models import Mood, Symptom


class MedicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Medication

    patient = factory.SubFactory(PatientFactory)
    name = factory.Sequence(lambda n: f"Examplol{n}")
    dosage = "10 mg"
    frequency = Frequency.ONCE_DAILY
    start_date = factory.LazyFunction(lambda: datetime.date(2026, 1, 1))


class SymptomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Symptom

    patient = factory.SubFactory(PatientFactory)
    name = "Headache"
    severity = 5
    date = factory.LazyAttribute(lambda s: s.patient.local_today())


class MoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mood

    patient = factory.SubFactory(PatientFactory)
    mood = 3
    date = factory.LazyAttribute(lambda m: m.patient.local_today())
