import factory

from accounts.tests.factories import PatientFactory
from symptoms.models import Mood, Symptom


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
