"""Query-string filters; a malformed value is a 400 (django-filter's DRF backend raises)."""

from __future__ import annotations

import datetime

import django_filters

from accounts import subject
from core.filters import DateFilter, IntegerFilter, StrictBooleanFilter, StrictFilterSet
from medications.models import Frequency, Medication, Reminder, ReminderStatus
from medications.selectors import local_day_start


class MedicationFilter(StrictFilterSet):
    is_active = StrictBooleanFilter(help_text="true or false")
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)

    class Meta:
        model = Medication
        fields = ("is_active", "frequency")


class ReminderFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ReminderStatus.choices)
    medication = IntegerFilter(field_name="medication_id", min_value=1, help_text="A medication id.")
    date_after = DateFilter(method="filter_date_after", help_text="Doses on or after this local date (YYYY-MM-DD).")
    date_before = DateFilter(method="filter_date_before", help_text="Doses on or before this local date (YYYY-MM-DD).")

    class Meta:
        model = Reminder
        fields = ("status", "medication", "date_after", "date_before")

    def _zone(self):
        # Dates are the reader's own calendar days (a doctor narrowed to a patient: the patient's).
        return (subject.subject(self.request) or self.request.user).tzinfo

    def filter_date_after(self, queryset, name, value: datetime.date):
        return queryset.filter(scheduled_for__gte=local_day_start(value, self._zone()))

    def filter_date_before(self, queryset, name, value: datetime.date):
        return queryset.filter(scheduled_for__lt=local_day_start(value + datetime.timedelta(days=1), self._zone()))
