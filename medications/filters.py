"""Query-string filters; a malformed value is a 400 (django-filter's DRF backend raises)."""

from __future__ import annotations

import datetime

import django_filters

from accounts import subject
from core.filters import IntegerFilter, StrictBooleanFilter, StrictFilterSet
from medications.models import Frequency, Medication, Reminder, ReminderStatus
from medications.selectors import local_day_start

# Calendar dates far outside any real dose would overflow the time-zone arithmetic.
_MIN_DAY = datetime.date(1900, 1, 1)
_MAX_DAY = datetime.date(9000, 1, 1)


def _clamp(value: datetime.date) -> datetime.date:
    return min(max(value, _MIN_DAY), _MAX_DAY)


class MedicationFilter(StrictFilterSet):
    is_active = StrictBooleanFilter(help_text="true or false")
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)

    class Meta:
        model = Medication
        fields = ("is_active", "frequency")


class ReminderFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ReminderStatus.choices)
    medication = IntegerFilter(field_name="medication_id", min_value=1, help_text="A medication id.")
    date_after = django_filters.DateFilter(
        method="filter_date_after", help_text="Doses on or after this local date (YYYY-MM-DD)."
    )
    date_before = django_filters.DateFilter(
        method="filter_date_before", help_text="Doses on or before this local date (YYYY-MM-DD)."
    )

    class Meta:
        model = Reminder
        fields = ("status", "medication", "date_after", "date_before")

    def _zone(self):
        # Dates are the reader's own calendar days (a doctor narrowed to a patient: the patient's).
        return (subject.subject(self.request) or self.request.user).tzinfo

    def filter_date_after(self, queryset, name, value: datetime.date):
        return queryset.filter(scheduled_for__gte=local_day_start(_clamp(value), self._zone()))

    def filter_date_before(self, queryset, name, value: datetime.date):
        return queryset.filter(
            scheduled_for__lt=local_day_start(_clamp(value) + datetime.timedelta(days=1), self._zone())
        )
