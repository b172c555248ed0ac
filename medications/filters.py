"""Query-string filters; a malformed value is a 400 (django-filter's DRF backend raises)."""

from __future__ import annotations

import datetime

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

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
        subject = getattr(self.request, "subject_patient", None) or self.request.user
        return subject.tzinfo

    def filter_date_after(self, queryset, name, value: datetime.date):
        return queryset.filter(scheduled_for__gte=local_day_start(_clamp(value), self._zone()))

    def filter_date_before(self, queryset, name, value: datetime.date):
        return queryset.filter(
            scheduled_for__lt=local_day_start(_clamp(value) + datetime.timedelta(days=1), self._zone())
        )


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` with an unknown field is a 400, not silently ignored."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [field for field in fields if field.lstrip("-") not in allowed]
            if unknown or not fields:
                choices = ", ".join(sorted(allowed))
                raise ValidationError({self.ordering_param: [f"Order by one of: {choices} (prefix - for descending)."]})
        return super().get_ordering(request, queryset, view)


FILTER_BACKENDS = [DjangoFilterBackend, SearchFilter, StrictOrderingFilter]
