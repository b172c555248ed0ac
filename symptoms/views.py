"""Symptoms, moods, the dashboard, the PDF report and the doctor's patient overview.

Patients read and write their own records; a verified doctor reads (never writes) those of the
patients who assigned them, naming one with ``?patient=<id>``. On plain lists a doctor who omits
``?patient=`` sees all of their patients' rows; the per-patient views (last seven days, summary,
trends, dashboard, report) need it (400 without).
"""

from __future__ import annotations

from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource, User
from accounts.permissions import IsVerifiedDoctor, PatientWritesDoctorReads
from accounts.readcache import cached_patient_read
from accounts.selectors import subject_patient
from core.params import ID_PATH_REGEX, PatientQuerySerializer, days_serializer, validate_query
from core.viewsets import FilterListsOnlyMixin
from symptoms import reports, selectors, services
from symptoms.filters import MoodFilter, StrictOrderingFilter, SymptomFilter
from symptoms.insights.services import latest_insight
from symptoms.models import Mood, Symptom
from symptoms.serializers import (
    DashboardSerializer,
    MedicationIdQuerySerializer,
    MoodSerializer,
    MoodTrendsSerializer,
    PatientOverviewSerializer,
    SymptomSerializer,
    SymptomSummarySerializer,
)

SummaryDaysQuery = days_serializer(default=None, maximum=365, name="SummaryDaysQuery")
WindowDaysQuery = days_serializer(default=30, maximum=365, name="WindowDaysQuery")

_BAD_QUERY = OpenApiResponse(description="A malformed query parameter, or a doctor without ?patient=.")
_NOT_FOUND = OpenApiResponse(description="Not found (or not yours / not your patient's).")
_FORBIDDEN = OpenApiResponse(description="Doctors cannot write; unverified doctors cannot read.")
_PATIENT_REQUIRED = "Doctors: the assigned patient (`?patient=<id>`, required for doctors)."


class PatientSubjectMixin:
    """Resolves ``?patient=`` once per request (a 400 when malformed, 404 when not visible)."""

    def subject(self, *, required: bool) -> User | None:
        if not hasattr(self, "_subject"):
            patient_id = validate_query(PatientQuerySerializer, self.request).get("patient")
            self._subject = subject_patient(user=self.request.user, patient_id=patient_id, required_for_doctor=required)
        return self._subject

    rows_selector = None  # optional: queryset -> the rows in the API's shape, for long lists

    def list_response(self, queryset) -> Response:
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        if self.rows_selector is not None:
            return Response(type(self).rows_selector(queryset))
        return Response(self.get_serializer(queryset, many=True).data)


_read_params = [PatientQuerySerializer]


@extend_schema_view(
    list=extend_schema(
        summary="My symptoms (doctors: all my patients', or one with ?patient=)",
        parameters=_read_params,
        responses={200: SymptomSerializer(many=True), 400: _BAD_QUERY},
    ),
    retrieve=extend_schema(
        summary="One symptom", parameters=_read_params, responses={200: SymptomSerializer, 404: _NOT_FOUND}
    ),
    create=extend_schema(summary="Log a symptom", responses={201: SymptomSerializer, 400: _BAD_QUERY, 403: _FORBIDDEN}),
    update=extend_schema(
        summary="Replace a symptom", responses={200: SymptomSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Change a symptom", responses={200: SymptomSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND}
    ),
    destroy=extend_schema(summary="Delete a symptom", responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
@extend_schema(tags=["symptoms"])
class SymptomViewSet(DoctorReadAuditMixin, FilterListsOnlyMixin, PatientSubjectMixin, viewsets.ModelViewSet):
    audit_resource = AccessResource.SYMPTOMS
    serializer_class = SymptomSerializer
    permission_classes = [PatientWritesDoctorReads]
    filter_backends = [DjangoFilterBackend, SearchFilter, StrictOrderingFilter]
    filterset_class = SymptomFilter
    search_fields = ["name", "notes"]
    ordering_fields = ["date", "severity", "logged_at"]
    ordering = ["-date", "-logged_at", "-id"]
    lookup_value_regex = ID_PATH_REGEX

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Symptom.objects.none()
        # related_medications and related_medications_details both read the prefetched relation.
        queryset = Symptom.objects.for_user(self.request.user).prefetch_related("related_medications")
        if self.request.method == "GET":
            patient = self.subject(required=self.action in {"last_seven_days", "summary"})
            if patient is not None:
                queryset = queryset.filter(patient=patient)
        return queryset

    rows_selector = staticmethod(selectors.symptom_rows)

    @cached_patient_read
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @cached_patient_read
    def list(self, request: Request, *args, **kwargs) -> Response:
        return self.list_response(self.filter_queryset(self.get_queryset()))

    def perform_create(self, serializer: SymptomSerializer) -> None:
        serializer.instance = services.symptom_create(patient=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer: SymptomSerializer) -> None:
        serializer.instance = services.symptom_update(symptom=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Symptom) -> None:
        services.symptom_delete(symptom=instance)

    @extend_schema(
        summary="Symptoms of today and the six days before (the patient's time zone)",
        parameters=[PatientQuerySerializer],
        description=_PATIENT_REQUIRED,
        responses={200: SymptomSerializer(many=True), 400: _BAD_QUERY, 404: _NOT_FOUND},
    )
    @action(detail=False, methods=["get"])
    @cached_patient_read
    def last_seven_days(self, request: Request) -> Response:
        queryset = self.get_queryset()
        patient = self.subject(required=True)
        return self.list_response(
            self.filter_queryset(selectors.symptom_last_seven_days(queryset=queryset, patient=patient))
        )

    @extend_schema(
        summary="Per symptom: count, average severity, last date; most frequent first",
        description="All time unless `days` is given. " + _PATIENT_REQUIRED,
        parameters=[SummaryDaysQuery, PatientQuerySerializer],
        responses={200: SymptomSummarySerializer(many=True), 400: _BAD_QUERY, 404: _NOT_FOUND},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    @cached_patient_read
    def summary(self, request: Request) -> Response:
        days = validate_query(SummaryDaysQuery, request)["days"]
        patient = self.subject(required=True)
        window = selectors.window_dates(patient=patient, days=days) if days else None
        return Response(selectors.symptom_summary(patient=patient, window=window))

    @extend_schema(
        summary="Symptoms linked to one medication",
        parameters=[MedicationIdQuerySerializer],
        responses={200: SymptomSerializer(many=True), 400: _BAD_QUERY, 404: _NOT_FOUND},
    )
    @action(detail=False, methods=["get"])
    def by_medication(self, request: Request) -> Response:
        medication_id = validate_query(MedicationIdQuerySerializer, request)["medication_id"]
        queryset = self.get_queryset()
        medication = selectors.visible_medication(
            user=request.user, medication_id=medication_id, patient=self.subject(required=False)
        )
        if medication is None:
            raise NotFound("Medication not found.")
        return self.list_response(
            self.filter_queryset(selectors.symptoms_for_medication(queryset=queryset, medication=medication))
        )


@extend_schema_view(
    list=extend_schema(
        summary="My moods (doctors: all my patients', or one with ?patient=)",
        parameters=_read_params,
        responses={200: MoodSerializer(many=True), 400: _BAD_QUERY},
    ),
    retrieve=extend_schema(
        summary="One mood", parameters=_read_params, responses={200: MoodSerializer, 404: _NOT_FOUND}
    ),
    create=extend_schema(
        summary="Log today's (or a past day's) mood; one per day",
        responses={201: MoodSerializer, 400: _BAD_QUERY, 403: _FORBIDDEN},
    ),
    update=extend_schema(summary="Replace a mood", responses={200: MoodSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND}),
    partial_update=extend_schema(
        summary="Change a mood", responses={200: MoodSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND}
    ),
    destroy=extend_schema(summary="Delete a mood", responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
@extend_schema(tags=["moods"])
class MoodViewSet(DoctorReadAuditMixin, FilterListsOnlyMixin, PatientSubjectMixin, viewsets.ModelViewSet):
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
        if self.request.method == "GET":
            patient = self.subject(required=self.action == "trends")
            if patient is not None:
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
        description="Every date of the window, oldest first; `null` where nothing was logged. " + _PATIENT_REQUIRED,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={200: MoodTrendsSerializer, 400: _BAD_QUERY, 404: _NOT_FOUND},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    @cached_patient_read
    def trends(self, request: Request) -> Response:
        days = validate_query(WindowDaysQuery, request)["days"]
        patient = self.subject(required=True)
        return Response(selectors.mood_trends(patient=patient, days=days))


class _PatientReadView(DoctorReadAuditMixin, APIView):
    permission_classes = [PatientWritesDoctorReads]

    def subject(self, request: Request) -> User:
        patient_id = validate_query(PatientQuerySerializer, request).get("patient")
        self._subject = subject_patient(user=request.user, patient_id=patient_id, required_for_doctor=True)
        return self._subject


@extend_schema(tags=["dashboard"])
class DashboardView(_PatientReadView):
    audit_resource = AccessResource.DASHBOARD

    @extend_schema(
        summary="Chart.js dashboard: symptom trends, most frequent symptoms, stats",
        description="Every date of the window is present (`null` average and `0` count on empty days). "
        + _PATIENT_REQUIRED,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={200: DashboardSerializer, 400: _BAD_QUERY, 404: _NOT_FOUND},
    )
    @cached_patient_read
    def get(self, request: Request) -> Response:
        days = validate_query(WindowDaysQuery, request)["days"]
        return Response(selectors.dashboard(patient=self.subject(request), days=days))


@extend_schema(tags=["reports"])
class ReportExportView(_PatientReadView):
    audit_resource = AccessResource.REPORT

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A client asking for application/pdf still gets JSON errors: fall back to JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download a PDF health report",
        description="Patient, period, current medications, adherence, symptom log, severity chart, mood "
        "summary and disclaimer. " + _PATIENT_REQUIRED,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF file."),
            400: _BAD_QUERY,
            404: _NOT_FOUND,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        days = validate_query(WindowDaysQuery, request)["days"]
        patient = self.subject(request)
        data = selectors.report_data(patient=patient, days=days)
        pdf = reports.build_health_report(data=data, insight=latest_insight(patient))
        response = HttpResponse(pdf, content_type="application/pdf")
        filename = f"meditrack-report-{data['start'].isoformat()}-to-{data['end'].isoformat()}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


@extend_schema(tags=["auth"])
class PatientOverviewView(DoctorReadAuditMixin, APIView):
    permission_classes = [IsVerifiedDoctor]
    audit_resource = AccessResource.OVERVIEW

    @extend_schema(
        summary="One assigned patient at a glance (doctors)",
        description="Profile, current medications, the last 20 symptoms, the last 30 moods and 30-day adherence.",
        responses={200: PatientOverviewSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = self._subject = subject_patient(user=request.user, patient_id=pk)
        return Response(PatientOverviewSerializer(selectors.patient_overview(patient=patient)).data)
