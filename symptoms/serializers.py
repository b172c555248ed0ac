"""Input and output shapes for symptoms and moods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from core.params import MAX_ID, PatientQuerySerializer
from core.serializers import LeanListSerializer, LeanReadMixin, StrictJSONTypesMixin
from medications.models import Medication
from symptoms.models import Mood, Symptom
from symptoms.selectors import medication_links


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


BRIEF_FIELDS = MedicationBriefSerializer.Meta.fields


def brief(values: Sequence[Any]) -> dict[str, Any]:
    """A linked medication's object in ``related_medications_details``, from its ``BRIEF_FIELDS``
    values (a ``medication_links`` row without the symptom id)."""
    return dict(zip(BRIEF_FIELDS, values, strict=True))


class SymptomSerializer(LeanReadMixin, StrictJSONTypesMixin, serializers.ModelSerializer):
    # The symptom object, written here for every reader: one instance (a detail, a page, the
    # doctor's overview), a whole list (SymptomSerializer(queryset, many=True): plain values in two
    # queries, no model instance: the 1,000-row list of make bench) and the export (lean_write as its
    # rows stream). The two link fields are written from the linked medications' brief objects
    # (brief()) in the relation's order (the Medication model's): the prefetched relation for an
    # instance, one query for a values read. Tested equal to DRF's fields: symptoms/tests/test_rows.py,
    # core/tests/test_lean_serializers.py. (A docstring here would be the schema's description.)

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
            "related_medications",  # the two link fields (hooks) come last: a values read appends them
            "related_medications_details",
        )
        read_only_fields = ("id", "patient", "logged_at")
        extra_kwargs = {
            "date": {"required": False, "help_text": "YYYY-MM-DD, not in the future; default: your local today."},
            "severity": {"min_value": 1, "max_value": 10},
        }
        list_serializer_class = LeanListSerializer

    def lean_source(self, symptom: Symptom) -> list[dict[str, Any]]:
        return [
            brief([getattr(medication, name) for name in BRIEF_FIELDS])
            for medication in symptom.related_medications.all()
        ]

    def lean_sources(self, rows: list[tuple], queryset: QuerySet[Symptom]) -> list[list[dict[str, Any]]]:
        at = self.lean_columns().index("id")
        briefs: dict[tuple, dict[str, Any]] = {}  # one object per medication, shared by its symptoms
        linked: dict[int, list[dict[str, Any]]] = {}
        for link in medication_links(symptoms=queryset, fields=BRIEF_FIELDS):
            values = link[1:]
            medication = briefs.get(values)
            if medication is None:
                medication = briefs[values] = brief(values)
            linked.setdefault(link[0], []).append(medication)
        return [linked.get(row[at], []) for row in rows]

    def lean_related_medications(self, linked: list[dict[str, Any]]) -> list[int]:
        return [medication["id"] for medication in linked]

    def lean_related_medications_details(self, linked: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return linked  # each symptom's own list (the objects in it are written, never changed)


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
