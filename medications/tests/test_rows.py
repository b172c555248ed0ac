"""A whole dose history is read as plain values (no model instances) and writes exactly what DRF's
fields write for each dose, byte for byte."""

import datetime

import pytest
from django.utils import timezone

from core.renderers import JSONRenderer
from medications.models import ReminderKind, ReminderStatus
from medications.selectors import reminders_visible
from medications.serializers import ReminderSerializer
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


def test_a_queryset_is_read_as_values_and_equals_drf(patient, django_assert_num_queries):
    medication = MedicationFactory(patient=patient, name="Tom & <Jerry>")
    ReminderFactory(medication=medication, sent_at=timezone.now(), status=ReminderStatus.SENT)
    ReminderFactory(
        medication=medication,
        kind=ReminderKind.LOGGED,
        status=ReminderStatus.TAKEN,
        scheduled_for=timezone.now() - datetime.timedelta(days=1),
        responded_at=timezone.now(),
        snoozed_until=timezone.now(),
    )
    queryset = reminders_visible(user=patient)
    with django_assert_num_queries(1):
        data = ReminderSerializer(queryset, many=True).data
    writer = ReminderSerializer()
    rendered = JSONRenderer().render
    assert rendered(data) == rendered([writer.drf_representation(reminder) for reminder in queryset])
    assert rendered(data) == rendered(ReminderSerializer(list(queryset), many=True).data)


def test_adherence_summary_is_already_the_documented_json(patient):
    from medications.selectors import adherence_summary
    from medications.serializers import AdherenceSerializer

    medication = MedicationFactory(patient=patient)
    for status, hours in ((ReminderStatus.TAKEN, 2), (ReminderStatus.MISSED, 30), (ReminderStatus.SKIPPED, 50)):
        ReminderFactory(
            medication=medication, status=status, scheduled_for=timezone.now() - datetime.timedelta(hours=hours)
        )
    summary = adherence_summary(patient=patient, days=30)
    rendered = JSONRenderer().render
    assert rendered(summary) == rendered(AdherenceSerializer(summary).data)
