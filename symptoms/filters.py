"""Query-string filters for symptom and mood lists. A malformed value is a 400, never ignored."""

from __future__ import annotations

from django_filters import rest_framework as filters

from core.filters import DateFilter, IntegerFilter, StrictFilterSet
from symptoms.models import Mood, Symptom


class _DateRangeFilterSet(StrictFilterSet):
    date = DateFilter(field_name="date", help_text="Exactly this date (YYYY-MM-DD).")
    date_after = DateFilter(field_name="date", lookup_expr="gte", help_text="On or after (YYYY-MM-DD).")
    date_before = DateFilter(field_name="date", lookup_expr="lte", help_text="On or before (YYYY-MM-DD).")

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid:
            after = self.form.cleaned_data.get("date_after")
            before = self.form.cleaned_data.get("date_before")
            if after and before and after > before:
                self.form.add_error("date_before", "date_before must not be earlier than date_after.")
                return False
        return valid


class SymptomFilter(_DateRangeFilterSet):
    name = filters.CharFilter(field_name="name", lookup_expr="iexact", help_text="Symptom name, any case.")
    severity = IntegerFilter(field_name="severity", min_value=1, max_value=10, help_text="Severity 1–10.")

    class Meta:
        model = Symptom
        fields = ("name", "severity", "date", "date_after", "date_before")


class MoodFilter(_DateRangeFilterSet):
    mood = IntegerFilter(field_name="mood", min_value=1, max_value=5, help_text="Mood level 1–5.")

    class Meta:
        model = Mood
        fields = ("mood", "date", "date_after", "date_before")
