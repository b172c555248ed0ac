"""A whole symptom list is read as plain values (no model instances) and writes exactly what DRF's
fields write for each symptom, byte for byte."""

import pytest

from core.renderers import JSONRenderer
from medications.tests.factories import MedicationFactory
from symptoms.models import Symptom
from symptoms.serializers import SymptomSerializer
from symptoms.tests.factories import SymptomFactory

pytestmark = pytest.mark.django_db

rendered = JSONRenderer().render


def drf(queryset) -> list[dict]:
    writer = SymptomSerializer()
    return [writer.drf_representation(symptom) for symptom in queryset]


def test_a_queryset_is_read_as_values_and_equals_drf(patient, django_assert_num_queries):
    first, second, third = (MedicationFactory(patient=patient, name=f"Med {n}", dosage=f"{n} mg") for n in range(3))
    SymptomFactory(patient=patient, name="Ache", notes="a & <3", related_medications=[first, third, second])
    SymptomFactory(patient=patient, name="Nausea", severity=9)
    SymptomFactory(patient=patient, related_medications=[second])
    queryset = (
        Symptom.objects.filter(patient=patient).prefetch_related("related_medications").order_by("-severity", "id")
    )
    with django_assert_num_queries(2):  # the rows, the links: no prefetch, no instance
        data = SymptomSerializer(queryset, many=True).data
    assert rendered(data) == rendered(drf(queryset))
    ache = next(row for row in data if row["name"] == "Ache")
    assert ache["related_medications"] == [third.pk, second.pk, first.pk]  # the relation's order


def test_an_empty_queryset_is_one_query(patient, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert SymptomSerializer(Symptom.objects.filter(patient=patient), many=True).data == []


def test_a_list_of_instances_writes_the_same(patient):
    SymptomFactory(patient=patient, related_medications=[MedicationFactory(patient=patient)])
    SymptomFactory(patient=patient)
    queryset = Symptom.objects.filter(patient=patient).order_by("id")
    assert rendered(SymptomSerializer(list(queryset), many=True).data) == rendered(drf(queryset))
    assert rendered(SymptomSerializer(list(queryset), many=True).data) == rendered(
        SymptomSerializer(queryset, many=True).data
    )


@pytest.mark.parametrize("path", ["/api/symptoms/", "/api/symptoms/last_seven_days/"])
def test_lists_are_two_queries_plus_auth_whatever_the_size(path, patient, patient_client, django_assert_num_queries):
    medication = MedicationFactory(patient=patient)
    SymptomFactory.create_batch(30, patient=patient, related_medications=[medication])
    with django_assert_num_queries(3):
        assert len(patient_client.get(path).json()) == 30


def test_a_page_is_written_from_instances_the_same_way(patient, patient_client):
    medication = MedicationFactory(patient=patient)
    SymptomFactory.create_batch(3, patient=patient, related_medications=[medication])
    whole = patient_client.get("/api/symptoms/").json()
    page = patient_client.get("/api/symptoms/?limit=2&offset=1").json()
    assert page["results"] == whole[1:3]
