"""Input/output shapes of the medications API: no queries, no side effects."""

from __future__ import annotations

from rest_framework import serializers

from core.serializers import LeanReadMixin, StrictJSONTypesMixin
from medications.models import Medication, Reminder, ReminderStatus
from medications.services.doses import SNOOZE_MINUTES

HHMM_HELP = 'Local "HH:MM" times (1–12, distinct) for the custom frequency; empty or null otherwise.'


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
            "start_date",
            "end_date",
            "notes",
            "is_active",
            "is_current",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "patient", "created_at", "updated_at")

    def get_is_current(self, obj: Medication) -> bool:
        return obj.is_current

    lean_is_current = get_is_current

    def lean_reminder_times(self, obj: Medication) -> list[str]:
        return obj.reminder_times

    def lean_custom_schedule(self, obj: Medication) -> list[str]:
        return obj.custom_schedule or []

    def drf_representation(self, instance):
        data = super().drf_representation(instance)
        data["custom_schedule"] = data.get("custom_schedule") or []
        return data


class ReminderSerializer(LeanReadMixin, serializers.ModelSerializer):
    medication_name = serializers.CharField(read_only=True)

    def lean_medication_name(self, reminder: Reminder) -> str:
        return reminder.medication_name

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
        extra_kwargs = {
            "snoozed_until": {"help_text": "When a snoozed reminder is emailed again (if still unanswered); else null."}
        }


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
