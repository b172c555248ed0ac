"""Input and output shapes for symptoms and moods."""

from __future__ import annotations

from rest_framework import serializers

from core.params import MAX_ID, PatientQuerySerializer
from core.serializers import LeanReadMixin, StrictJSONTypesMixin
from medications.models import Medication
from symptoms.models import Mood, Symptom


class MedicationIdsField(serializers.ListField):
    """In: a list of medication ids (checked against the owner's own in the service).
    Out: the linked ids, read from the prefetched relation."""

    child = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance.related_medications.all()

    def to_representation(self, data) -> list[int]:
        return [medication.pk for medication in data]


class MedicationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Medication
        fields = ("id", "name", "dosage")
        read_only_fields = fields


class SymptomSerializer(LeanReadMixin, StrictJSONTypesMixin, serializers.ModelSerializer):
    related_medications = MedicationIdsField(
        required=False, help_text="Ids of your own medications this symptom may relate to."
    )
    related_medications_details = MedicationBriefSerializer(source="related_medications", many=True, read_only=True)

    class Meta:
        model = Symptom
        fields = (
            "id",
            "patient",
            "name",
            "severity",
            "notes",
            "date",
            "logged_at",
            "related_medications",
            "related_medications_details",
        )
        read_only_fields = ("id", "patient", "logged_at")
        extra_kwargs = {
            "date": {"required": False, "help_text": "YYYY-MM-DD, not in the future; default: your local today."},
            "severity": {"min_value": 1, "max_value": 10},
        }

    def lean_related_medications(self, symptom: Symptom) -> list[int]:
        return [medication.pk for medication in symptom.related_medications.all()]

    def lean_related_medications_details(self, symptom: Symptom) -> list[dict]:
        return [{"id": m.pk, "name": m.name, "dosage": m.dosage} for m in symptom.related_medications.all()]


class MoodSerializer(LeanReadMixin, StrictJSONTypesMixin, serializers.ModelSerializer):
    mood_display = serializers.CharField(source="get_mood_display", read_only=True)

    class Meta:
        model = Mood
        fields = ("id", "patient", "mood", "mood_display", "notes", "date", "logged_at")
        read_only_fields = ("id", "patient", "logged_at")
        extra_kwargs = {
            "date": {"required": False, "help_text": "YYYY-MM-DD, not in the future; default: your local today."}
        }
        # One mood per patient per day is checked by the service (a 400 on the date field).
        validators: list = []

    def lean_mood_display(self, mood: Mood) -> str:
        return mood.get_mood_display()


class SymptomSummarySerializer(serializers.Serializer):
    symptom_name = serializers.CharField()
    count = serializers.IntegerField()
    avg_severity = serializers.FloatField()
    last_occurrence = serializers.DateField()


class MedicationIdQuerySerializer(PatientQuerySerializer):
    medication_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="One of your (or your patient's) medications."
    )


# --- Chart.js shapes (documentation of the mood trends; the dashboard reuses them) -------------


class ChartDatasetSerializer(serializers.Serializer):
    label = serializers.CharField()
    data = serializers.ListField(child=serializers.FloatField(allow_null=True))
    borderColor = serializers.CharField(required=False)  # Chart.js key
    backgroundColor = serializers.CharField(required=False)  # Chart.js key
    tension = serializers.FloatField(required=False)
    spanGaps = serializers.BooleanField(required=False)  # Chart.js key: draw the line across empty days


class ChartSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField())
    datasets = ChartDatasetSerializer(many=True)


class MoodTrendsSerializer(ChartSerializer):
    average = serializers.FloatField(allow_null=True)
