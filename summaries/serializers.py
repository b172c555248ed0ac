"""Output shapes of the reads across apps: the dashboard and the doctor's patient overview."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import PatientSerializer
from core.params import PatientQuerySerializer
from medications.serializers import AdherenceSerializer, MedicationSerializer
from symptoms.serializers import ChartSerializer, MoodSerializer, SymptomSerializer


class _DashboardStatsSerializer(serializers.Serializer):
    active_medications = serializers.IntegerField()
    total_symptoms_logged = serializers.IntegerField()
    symptoms_last_7_days = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    symptom_trends = ChartSerializer(help_text="Every date of the window, oldest first.")
    common_symptoms = ChartSerializer(help_text="The five most frequent symptoms in the window.")
    stats = _DashboardStatsSerializer()


class PatientOverviewSerializer(serializers.Serializer):
    patient = PatientSerializer()
    medications = MedicationSerializer(many=True)
    recent_symptoms = SymptomSerializer(many=True, help_text="The last 20.")
    recent_moods = MoodSerializer(many=True, help_text="The last 30.")
    adherence = AdherenceSerializer(help_text="The last 30 days.")


class ExportQuerySerializer(PatientQuerySerializer):
    format = serializers.ChoiceField(
        choices=[("json", "JSON document"), ("csv", "ZIP of CSV files"), ("fhir", "FHIR R4 Bundle")],
        default="json",
        help_text="json (default), csv (a ZIP with one CSV per kind) or fhir (a FHIR R4 Bundle). Doctors: fhir only.",
    )
