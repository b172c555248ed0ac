import datetime

import factory
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from medications.models import Frequency, Medication
from symptoms.models import Mood, Symptom


class MedicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Medication

    patient = factory.SubFactory(PatientFactory)
    name = factory.Sequence(lambda n: f"Medication {n}")
    dosage = "10 mg"
    frequency = Frequency.ONCE_DAILY
    start_date = factory.LazyFunction(lambda: timezone.now().date() - datetime.timedelta(days=30))


class SymptomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Symptom
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    name = "Headache"
    severity = 5
    date = factory.LazyAttribute(lambda s: s.patient.local_today())

    @factory.post_generation
    def related_medications(self, create, extracted, **kwargs):
        if create and extracted:
            self.related_medications.set(extracted)


class MoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mood

    patient = factory.SubFactory(PatientFactory)
    mood = 4
    date = factory.LazyAttribute(lambda m: m.patient.local_today())
