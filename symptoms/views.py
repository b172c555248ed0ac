"""Symptoms and moods.

Patients read and write their own records; a verified doctor reads (never writes) those of the
patients who assigned them, naming one with ``?patient=<id>`` (``accounts.subject``). On plain
lists a doctor who omits ``?patient=`` sees all of their patients' rows; the per-patient views
(last seven days, summary, trends) need it (400 without).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import subject
from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource
from accounts.permissions import PatientWritesDoctorReads
from accounts.readcache import cached_patient_read
from core.filters import FILTER_BACKENDS, DjangoFilterBackend, StrictOrderingFilter
from core.params import (
    ID_PATH_REGEX,
    PATIENT_REQUIRED_DOC,
    PatientQuerySerializer,
    WindowDaysQuery,
    days_serializer,
    validate_query,
)
from core.schema import SUBJECT_BAD_QUERY, SUBJECT_NOT_FOUND
from core.viewsets import FilterListsOnlyMixin
from symptoms import selectors, services
from symptoms.filters import MoodFilter, SymptomFilter
from symptoms.models import Mood, Symptom
from symptoms.serializers import (
    MedicationIdQuerySerializer,
    MoodSerializer,
    MoodTrendsSerializer,
    SymptomSerializer,
    SymptomSummarySerializer,
)

SummaryDaysQuery = days_serializer(default=None, maximum=365, name="SummaryDaysQuery")

_FORBIDDEN = OpenApiResponse(description="Doctors cannot write; unverified doctors cannot read.")
_INVALID_BODY = OpenApiResponse(description="Validation errors.")


_read_params = [PatientQuerySerializer]

# What Swagger UI's "Try it out" sends by default (validated in core/tests/test_docs.py). No date:
# the patient's local today, always inside the insight window.
SYMPTOM_EXAMPLE = OpenApiExample(
    "A headache today", value={"name": "Headache", "severity": 6, "notes": "After lunch."}, request_only=True
)
SYMPTOM_PATCH_EXAMPLE = OpenApiExample("Milder than logged", value={"severity": 4}, request_only=True)
MOOD_EXAMPLE = OpenApiExample("A good day", value={"mood": 4, "notes": "Slept well."}, request_only=True)
MOOD_PATCH_EXAMPLE = OpenApiExample("Better than logged", value={"mood": 5}, request_only=True)

Texts = tuple[str, str]  # an operation's summary and description


def _crud_schema(
    serializer: type,
    *,
    example: OpenApiExample,
    patch_example: OpenApiExample,
    list: Texts,
    retrieve: Texts,
    create: Texts,
    update: Texts,
    partial_update: Texts,
    destroy: Texts,
) -> dict:
    """``extend_schema_view`` arguments for a health-record viewset: each operation's own words,
    and the parameters, examples and answers every such viewset shares."""

    def doc(texts: Texts, **kwargs) -> dict:
        summary, description = texts
        return extend_schema(summary=summary, description=description, **kwargs)

    return {
        "list": doc(list, parameters=_read_params, responses={200: serializer(many=True), 400: SUBJECT_BAD_QUERY}),
        "retrieve": doc(retrieve, parameters=_read_params, responses={200: serializer, 404: SUBJECT_NOT_FOUND}),
        "create": doc(create, examples=[example], responses={201: serializer, 400: _INVALID_BODY, 403: _FORBIDDEN}),
        "update": doc(update, examples=[example], responses={200: serializer, 403: _FORBIDDEN, 404: SUBJECT_NOT_FOUND}),
        "partial_update": doc(
            partial_update,
            examples=[patch_example],
            responses={200: serializer, 403: _FORBIDDEN, 404: SUBJECT_NOT_FOUND},
        ),
        "destroy": doc(destroy, responses={204: None, 403: _FORBIDDEN, 404: SUBJECT_NOT_FOUND}),
    }


@extend_schema_view(
    **_crud_schema(
        SymptomSerializer,
        example=SYMPTOM_EXAMPLE,
        patch_example=SYMPTOM_PATCH_EXAMPLE,
        list=(
            "My symptoms (doctors: all my patients', or one with ?patient=)",
            "Newest first; filter by name, severity and dates, search name and notes.",
        ),
        retrieve=("One symptom", "With the medications it was linked to."),
        create=(
            "Log a symptom",
            "Severity 1–10; `date` defaults to today in my time zone and may not be in the future.",
        ),
        update=("Replace a symptom", "All fields as on create."),
        partial_update=("Change a symptom", "Only the fields sent change."),
        destroy=("Delete a symptom", "Gone from lists, summaries and the next insight."),
    )
)
@extend_schema(tags=["symptoms"])
class SymptomViewSet(DoctorReadAuditMixin, FilterListsOnlyMixin, viewsets.ModelViewSet):
    audit_resource = AccessResource.SYMPTOMS
    serializer_class = SymptomSerializer
    permission_classes = [PatientWritesDoctorReads]
    filter_backends = FILTER_BACKENDS
    filterset_class = SymptomFilter
    search_fields = ["name", "notes"]
    ordering_fields = ["date", "severity", "logged_at"]
    ordering = ["-date", "-logged_at", "-id"]
    lookup_value_regex = ID_PATH_REGEX

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Symptom.objects.none()
        # A detail or a page: related_medications and related_medications_details read the
        # prefetched relation. A whole list is read as values (SymptomSerializer's list path).
        queryset = Symptom.objects.for_user(self.request.user).prefetch_related("related_medications")
        if self.request.method == "GET" and (patient := subject.subject(self.request)) is not None:
            queryset = queryset.filter(patient=patient)
        return queryset

    @cached_patient_read
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @cached_patient_read
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def list_response(self, queryset) -> Response:
        """``queryset`` answered as ``list`` answers: a page, or every row."""
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(queryset, many=True).data)

    def perform_create(self, serializer: SymptomSerializer) -> None:
        serializer.instance = services.symptom_create(patient=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer: SymptomSerializer) -> None:
        serializer.instance = services.symptom_update(symptom=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Symptom) -> None:
        services.symptom_delete(symptom=instance)

    @extend_schema(
        summary="Symptoms of today and the six days before (the patient's time zone)",
        parameters=[PatientQuerySerializer],
        description=PATIENT_REQUIRED_DOC,
        responses={200: SymptomSerializer(many=True), 400: SUBJECT_BAD_QUERY, 404: SUBJECT_NOT_FOUND},
    )
    @action(detail=False, methods=["get"])
    @cached_patient_read
    def last_seven_days(self, request: Request) -> Response:
        patient = subject.require(request)
        queryset = self.get_queryset()
        return self.list_response(
            self.filter_queryset(selectors.symptom_last_seven_days(queryset=queryset, patient=patient))
        )

    @extend_schema(
        summary="Per symptom: count, average severity, last date; most frequent first",
        description="All time unless `days` is given. " + PATIENT_REQUIRED_DOC,
        parameters=[SummaryDaysQuery, PatientQuerySerializer],
        responses={200: SymptomSummarySerializer(many=True), 400: SUBJECT_BAD_QUERY, 404: SUBJECT_NOT_FOUND},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    @cached_patient_read
    def summary(self, request: Request) -> Response:
        days = validate_query(SummaryDaysQuery, request)["days"]
        patient = subject.require(request)
        window = patient.local_days(days) if days else None
        return Response(selectors.symptom_summary(patient=patient, window=window))

    @extend_schema(
        summary="Symptoms linked to one medication",
        description="Symptoms whose `related_medications` include it; an id that is not yours is a 404.",
        parameters=[MedicationIdQuerySerializer],
        responses={200: SymptomSerializer(many=True), 400: SUBJECT_BAD_QUERY, 404: SUBJECT_NOT_FOUND},
    )
    @action(detail=False, methods=["get"])
    def by_medication(self, request: Request) -> Response:
        medication_id = validate_query(MedicationIdQuerySerializer, request)["medication_id"]
        queryset = self.get_queryset()
        medication = selectors.visible_medication(
            user=request.user, medication_id=medication_id, patient=subject.subject(request)
        )
        if medication is None:
            raise NotFound("Medication not found.")
        return self.list_response(
            self.filter_queryset(selectors.symptoms_for_medication(queryset=queryset, medication=medication))
        )


@extend_schema_view(
    **_crud_schema(
        MoodSerializer,
        example=MOOD_EXAMPLE,
        patch_example=MOOD_PATCH_EXAMPLE,
        list=("My moods (doctors: all my patients', or one with ?patient=)", "Newest first; filter by mood and dates."),
        retrieve=("One mood", "Mood 1–5 with its label."),
        create=(
            "Log today's (or a past day's) mood; one per day",
            "Mood 1 (Very Bad) to 5 (Very Good); `date` defaults to today. A second one for the same day is a 400.",
        ),
        update=("Replace a mood", "All fields as on create."),
        partial_update=("Change a mood", "Only the fields sent change."),
        destroy=("Delete a mood", "Frees its day for a new one."),
    )
)
@extend_schema(tags=["moods"])
class MoodViewSet(DoctorReadAuditMixin, FilterListsOnlyMixin, viewsets.ModelViewSet):
    audit_resource = AccessResource.MOODS
    serializer_class = MoodSerializer
    permission_classes = [PatientWritesDoctorReads]
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = MoodFilter
    ordering_fields = ["date", "mood", "logged_at"]
    ordering = ["-date", "-logged_at", "-id"]
    lookup_value_regex = ID_PATH_REGEX

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Mood.objects.none()
        queryset = Mood.objects.for_user(self.request.user)
        if self.request.method == "GET" and (patient := subject.subject(self.request)) is not None:
            queryset = queryset.filter(patient=patient)
        return queryset

    @cached_patient_read
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: MoodSerializer) -> None:
        serializer.instance = services.mood_create(patient=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer: MoodSerializer) -> None:
        serializer.instance = services.mood_update(mood=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Mood) -> None:
        services.mood_delete(mood=instance)

    @extend_schema(
        summary="Mood per day for Chart.js, with the average",
        description="Every date of the window, oldest first; `null` where nothing was logged. " + PATIENT_REQUIRED_DOC,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={200: MoodTrendsSerializer, 400: SUBJECT_BAD_QUERY, 404: SUBJECT_NOT_FOUND},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    @cached_patient_read
    def trends(self, request: Request) -> Response:
        days = validate_query(WindowDaysQuery, request)["days"]
        patient = subject.require(request)
        return Response(selectors.mood_trends(patient=patient, days=days))
