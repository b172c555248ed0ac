"""Input and output shapes of ``GET /api/symptoms/ai_insights/``."""

from __future__ import annotations

from rest_framework import serializers

from core.params import PatientQuerySerializer


class InsightsQuerySerializer(PatientQuerySerializer):
    days = serializers.IntegerField(
        min_value=1, max_value=90, required=False, default=7, help_text="Window in days, 1–90 (default 7)."
    )


class MedicationCorrelationSerializer(serializers.Serializer):
    medication = serializers.CharField()
    observation = serializers.CharField()
    started_on = serializers.DateField(allow_null=True, help_text="The medication's start date.")
    avg_severity_before = serializers.FloatField(
        allow_null=True, help_text="Average severity in the `days` days before the start (null: nothing logged)."
    )
    avg_severity_after = serializers.FloatField(
        allow_null=True, help_text="Average severity in the `days` days from the start (null: nothing logged)."
    )
    linked_symptoms = serializers.ListField(
        child=serializers.CharField(), help_text="Symptoms the patient linked to this medication."
    )
    worsened_symptoms = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "Symptoms whose average severity rose by 1 or more after the start, each with at least 3 "
            "entries before and 3 after."
        ),
    )


class InsightSerializer(serializers.Serializer):
    insight = serializers.CharField(help_text="A short plain-language summary of the period.")
    patterns = serializers.ListField(child=serializers.CharField())
    medication_correlations = MedicationCorrelationSerializer(many=True)
    recommendations = serializers.ListField(child=serializers.CharField())
    analyzed_period = serializers.CharField(help_text="`YYYY-MM-DD to YYYY-MM-DD`, in the patient's time zone.")
    symptom_count = serializers.IntegerField()
    source = serializers.ChoiceField(
        choices=["gemini", "local"], help_text="`gemini`, or `local` for the built-in statistical analysis."
    )
    cached = serializers.BooleanField(help_text="True when this answer came from the 24-hour cache.")
    generated_at = serializers.DateTimeField()
    disclaimer = serializers.CharField()
