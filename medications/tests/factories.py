import datetime

import factory
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from medications.models import Frequency, Medication, Reminder, ReminderKind, ReminderStatus


class MedicationFactory(factory.django.DjangoModelFactory):
    """A plain row (no next_dose_at); use ``medication_create`` to test scheduling."""

    class Meta:
        model = Medication

    patient = factory.SubFactory(PatientFactory)
    name = factory.Sequence(lambda n: f"Medicine {n}")
    dosage = "10 mg"
    frequency = Frequency.ONCE_DAILY
    custom_schedule = factory.LazyFunction(list)
    start_date = factory.LazyFunction(lambda: timezone.now().date() - datetime.timedelta(days=30))
    is_active = True


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    medication = factory.SubFactory(MedicationFactory)
    patient = factory.LazyAttribute(lambda r: r.medication.patient)
    kind = ReminderKind.SCHEDULED
    scheduled_for = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    status = ReminderStatus.SENT
