"""Input/output shapes of the medications API: no queries, no side effects."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import LeanListSerializer, LeanReadMixin, StrictJSONTypesMixin
from medications.models import (
    MAX_DAYS,
    MAX_INTERVAL_HOURS,
    MAX_QUANTITY,
    MAX_STOCK,
    MAX_TAPER_DAY,
    MAX_TAPER_STEPS,
    MIN_QUANTITY,
    Medication,
    Reminder,
    ReminderStatus,
)
from medications.schedule import HHMM, WEEKDAYS, hhmm, parse_hhmm
from medications.services.doses import SNOOZE_MINUTES
from medications.services.stock import supply

HHMM_HELP = 'Local "HH:MM" times (1–12, distinct) for the custom frequency; empty or null otherwise.'


@extend_schema_field({"type": "string", "pattern": HHMM.pattern, "example": "08:00", "nullable": True})
class HHMMField(serializers.CharField):
    """A local wall-clock time as "HH:MM" (stored as a ``TimeField``)."""

    default_error_messages = {"hhmm": 'Must be "HH:MM" (00:00–23:59).'}

    def to_internal_value(self, data) -> datetime.time:
        value = super().to_internal_value(data)
        if not HHMM.match(value):
            self.fail("hhmm")
        return parse_hhmm(value)

    def to_representation(self, value: datetime.time) -> str:
        return hhmm(value)


def quantity_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        min_value=MIN_QUANTITY,
        max_value=MAX_QUANTITY,
        coerce_to_string=False,
        **kwargs,
    )


class TaperStepSerializer(StrictJSONTypesMixin, serializers.Serializer):
    from_day = serializers.IntegerField(
        min_value=0, max_value=MAX_TAPER_DAY, help_text="Day counted from start_date (0 = the start date)."
    )
    dose_quantity = quantity_field(help_text="Units per dose from that day on.")

    def validate(self, attrs: dict) -> dict:
        # Stored in a JSON column: a plain number (at most 3 decimals, so a float is exact enough).
        return {"from_day": attrs["from_day"], "dose_quantity": float(attrs["dose_quantity"])}


def _optional_days(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_DAYS, required=False, allow_null=True, **kwargs)


class MedicationSerializer(LeanReadMixin, StrictJSONTypesMixin, serializers.ModelSerializer):
    custom_schedule = serializers.ListField(
        child=serializers.CharField(max_length=5),
        required=False,
        allow_null=True,
        allow_empty=True,
        max_length=50,
        help_text=HHMM_HELP,
    )
    reminder_times = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The local (patient's time zone) HH:MM times at which reminders fire.",
    )
    is_current = serializers.SerializerMethodField(
        help_text="Active, and today (patient's time zone) is between start and end date."
    )
    days_of_week = serializers.ListField(
        child=serializers.ChoiceField(choices=WEEKDAYS),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=7,
        help_text='Doses only on these local weekdays (distinct, stored in week order), e.g. ["mon"]; null = '
        "every day. At most one of days_of_week, every_n_days > 1 and a cycle; none for as_needed.",
    )
    every_n_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        help_text="Doses every N days counted from start_date (day 0 is a dose day). Default 1.",
    )
    cycle_on_days = _optional_days(
        help_text="On/off cycle from start_date: doses on this many days, then none for cycle_off_days. "
        "Both or neither."
    )
    cycle_off_days = _optional_days(help_text="Days without doses in each cycle. Both or neither.")
    interval_hours = serializers.IntegerField(
        min_value=1,
        max_value=MAX_INTERVAL_HOURS,
        required=False,
        allow_null=True,
        help_text='Required for frequency "interval" (doses every N hours each local day); null otherwise.',
    )
    interval_start = HHMMField(
        required=False,
        allow_null=True,
        help_text='"interval" only: local time of the first dose of the day (default "08:00"); null otherwise.',
    )
    interval_end = HHMMField(
        required=False,
        allow_null=True,
        help_text='"interval" only: no dose after this local time (default "22:00", included when on the grid, '
        "not before interval_start); null otherwise.",
    )
    dose_quantity = quantity_field(required=False, help_text="Units per dose (tablets, ml, puffs). Default 1.")
    dose_unit = serializers.CharField(
        max_length=32, required=False, help_text='What one unit is, e.g. "tablet", "ml" (default "dose").'
    )
    taper = serializers.ListField(
        child=TaperStepSerializer(),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=MAX_TAPER_STEPS,
        help_text="Dose quantity by day counted from start_date (a taper): sorted, distinct from_day, the first "
        "one 0; replaces dose_quantity while set. Null = always dose_quantity.",
    )
    stock_quantity = serializers.DecimalField(
        max_digits=11,
        decimal_places=3,
        min_value=Decimal(0),
        max_value=MAX_STOCK,
        coerce_to_string=False,
        required=False,
        allow_null=True,
        help_text="Units in stock (in dose_unit), 0–99999999.999; null: not tracked. Taken doses take "
        "dose_quantity off, a correction to skipped puts it back; POST refill/ adds.",
    )
    days_of_supply = serializers.SerializerMethodField(
        help_text="Days from today (patient's zone) to runs_out_on; null when the stock is not tracked, "
        "as needed, or it outlasts the schedule (or a year)."
    )
    runs_out_on = serializers.SerializerMethodField(
        help_text="Local date of the first coming dose the stock cannot cover (from the regimen's doses "
        "and quantities); null like days_of_supply."
    )

    class Meta:
        model = Medication
        fields = (
            "id",
            "patient",
            "name",
            "dosage",
            "frequency",
            "custom_schedule",
            "reminder_times",
            "days_of_week",
            "every_n_days",
            "cycle_on_days",
            "cycle_off_days",
            "interval_hours",
            "interval_start",
            "interval_end",
            "dose_quantity",
            "dose_unit",
            "taper",
            "start_date",
            "end_date",
            "notes",
            "is_active",
            "is_current",
            "stock_quantity",
            "refill_threshold_days",
            "days_of_supply",
            "runs_out_on",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "patient", "created_at", "updated_at")

    def get_is_current(self, obj: Medication) -> bool:
        return obj.is_current

    @staticmethod
    def _supply(obj: Medication) -> tuple[int | None, datetime.date | None]:
        cached = obj.__dict__.get("_supply")
        if cached is None:
            cached = obj.__dict__["_supply"] = supply(obj)
        return cached

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=0))
    def get_days_of_supply(self, obj: Medication) -> int | None:
        return self._supply(obj)[0]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_runs_out_on(self, obj: Medication) -> datetime.date | None:
        return self._supply(obj)[1]

    lean_days_of_supply = get_days_of_supply
    lean_runs_out_on = get_runs_out_on

    def lean_is_current(self, obj: Medication) -> bool:
        """``obj.is_current``, with "today" in each zone read once per serializer (a list's
        rows share their owner's)."""
        zone = obj.owner_tzinfo
        days = self.__dict__.setdefault("_local_today", {})
        today = days.get(zone)
        if today is None:
            today = days[zone] = timezone.now().astimezone(zone).date()
        return obj.is_current_on(today)

    def lean_reminder_times(self, obj: Medication) -> list[str]:
        return obj.reminder_times

    def lean_custom_schedule(self, obj: Medication) -> list[str]:
        return obj.custom_schedule or []

    def lean_interval_start(self, obj: Medication) -> str | None:
        return hhmm(obj.interval_start) if obj.interval_start else None

    def lean_interval_end(self, obj: Medication) -> str | None:
        return hhmm(obj.interval_end) if obj.interval_end else None

    def drf_representation(self, instance):
        data = super().drf_representation(instance)
        data["custom_schedule"] = data.get("custom_schedule") or []
        return data


class ReminderSerializer(LeanReadMixin, serializers.ModelSerializer):
    # The dose object, written here for every reader: one instance (an answer, a logged dose, the
    # export, the live dose.* events) or a whole history (ReminderSerializer(queryset, many=True):
    # plain values in one query, no model instance). Every field is a column; medication_name is
    # the annotation medications.selectors.reminders_visible adds. Tested equal to DRF's fields:
    # medications/tests/test_rows.py. (A docstring here would be the schema's description.)

    medication_name = serializers.CharField(read_only=True)

    class Meta:
        model = Reminder
        fields = (
            "id",
            "medication",
            "medication_name",
            "kind",
            "scheduled_for",
            "status",
            "sent_at",
            "responded_at",
            "snoozed_until",
        )
        read_only_fields = fields
        list_serializer_class = LeanListSerializer
        extra_kwargs = {
            "snoozed_until": {
                "help_text": "The time of the latest snooze: the dose is emailed again then if still unanswered. It stays as a record once that email is sent or the dose is answered; null when the dose was never snoozed."
            }
        }


class RefillSerializer(StrictJSONTypesMixin, serializers.Serializer):
    quantity = serializers.DecimalField(
        max_digits=11,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MAX_STOCK,
        coerce_to_string=False,
        help_text="Units added to the stock (> 0); starts tracking an untracked stock.",
    )


class SnoozeSerializer(StrictJSONTypesMixin, serializers.Serializer):
    minutes = serializers.IntegerField(
        min_value=SNOOZE_MINUTES[0],
        max_value=SNOOZE_MINUTES[1],
        default=15,
        help_text="Email the reminder again this many minutes from now, if still unanswered.",
    )


class DoseLogSerializer(StrictJSONTypesMixin, serializers.Serializer):
    taken_at = serializers.DateTimeField(
        required=False, help_text="When the dose was taken (ISO 8601 with offset); default now."
    )


class AdherenceMedicationSerializer(serializers.Serializer):
    medication_id = serializers.IntegerField()
    name = serializers.CharField()
    adherence_rate = serializers.FloatField(allow_null=True)
    taken = serializers.IntegerField()
    missed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class HistoryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    medication = serializers.IntegerField()
    medication_name = serializers.CharField()
    scheduled_for = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ReminderStatus.choices)
    sent_at = serializers.DateTimeField(allow_null=True)
    responded_at = serializers.DateTimeField(allow_null=True)


class AdherenceSerializer(serializers.Serializer):
    adherence_rate = serializers.FloatField(
        allow_null=True, help_text="Percent of counted doses taken (0–100); null when nothing was due."
    )
    total_reminders = serializers.IntegerField()
    taken_reminders = serializers.IntegerField()
    missed_reminders = serializers.IntegerField()
    skipped_reminders = serializers.IntegerField()
    period = PeriodSerializer()
    medications = AdherenceMedicationSerializer(many=True)
    history = HistoryItemSerializer(many=True)


class ScheduledDoseSerializer(serializers.Serializer):
    scheduled_for = serializers.DateTimeField(help_text="When the reminder fires (aware, UTC).")
    local_date = serializers.DateField(help_text="The dose day in the patient's time zone.")
    local_time = serializers.CharField(help_text='"HH:MM" on the patient\'s clock when it fires (after DST rules).')
    dose_quantity = quantity_field(help_text="Units of dose_unit for this dose (the taper step of that day).")


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Subscribe to this URL in a calendar app; keep it private.")
    show_names = serializers.BooleanField(help_text='Whether events name the medication (else "Medication dose").')


class CalendarFeedIssueSerializer(StrictJSONTypesMixin, serializers.Serializer):
    show_names = serializers.BooleanField(
        required=False, default=True, help_text='Events name the medication (default true; false → "Medication dose").'
    )
