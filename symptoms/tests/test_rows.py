"""The long-list path (plain values) writes exactly what SymptomSerializer writes."""

import pytest

from core.renderers import JSONRenderer
from medications.tests.factories import MedicationFactory
from symptoms.models import Symptom
from symptoms.selectors import symptom_rows
from symptoms.serializers import SymptomSerializer
from symptoms.tests.factories import SymptomFactory

pytestmark = pytest.mark.django_db


def test_rows_equal_the_serializer(patient):
    first, second, third = (MedicationFactory(patient=patient, name=f"Med {n}", dosage=f"{n} mg") for n in range(3))
    SymptomFactory(patient=patient, name="Ache", notes="a & <3", related_medications=[first, third, second])
    SymptomFactory(patient=patient, name="Nausea", severity=9)
    SymptomFactory(patient=patient, related_medications=[second])
    queryset = Symptom.objects.filter(patient=patient).order_by("-severity", "id")
    rendered = JSONRenderer().render
    assert rendered(symptom_rows(queryset)) == rendered(SymptomSerializer(queryset, many=True).data)


def test_rows_of_an_empty_queryset(patient):
    assert symptom_rows(Symptom.objects.none()) == []


def test_list_is_two_queries_plus_auth_whatever_the_size(patient, patient_client, django_assert_num_queries):
    medication = MedicationFactory(patient=patient)
    SymptomFactory.create_batch(30, patient=patient, related_medications=[medication])
    with django_assert_num_queries(3):
        assert len(patient_client.get("/api/symptoms/").json()) == 30
