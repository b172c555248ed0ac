"""The reads across apps: the dashboard, the PDF report and the doctor's patient overview.

Whose data: ``accounts.subject`` (a patient: their own; a doctor: ``?patient=<id>``, required,
or the overview's URL id).
"""

from __future__ import annotations

from functools import partial

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import subject
from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource
from accounts.permissions import IsVerifiedDoctor, PatientWritesDoctorReads
from accounts.readcache import cached_patient_read
from core.params import PATIENT_REQUIRED_DOC, PatientQuerySerializer, WindowDaysQuery, validate_query
from core.ratelimit import enforce_rate_limit
from core.schema import SUBJECT_BAD_QUERY, SUBJECT_NOT_FOUND
from summaries import export, reports, selectors
from summaries.export import document, fhir, spreadsheet
from summaries.serializers import DashboardSerializer, ExportQuerySerializer, PatientOverviewSerializer


@extend_schema(tags=["dashboard"])
class DashboardView(DoctorReadAuditMixin, APIView):
    permission_classes = [PatientWritesDoctorReads]
    audit_resource = AccessResource.DASHBOARD

    @extend_schema(
        summary="Chart.js dashboard: symptom trends, most frequent symptoms, stats",
        description="Every date of the window is present (`null` average and `0` count on empty days). "
        + PATIENT_REQUIRED_DOC,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={200: DashboardSerializer, 400: SUBJECT_BAD_QUERY, 404: SUBJECT_NOT_FOUND},
    )
    @cached_patient_read
    def get(self, request: Request) -> Response:
        days = validate_query(WindowDaysQuery, request)["days"]
        return Response(selectors.dashboard(patient=subject.require(request), days=days))


@extend_schema(tags=["reports"])
class ReportExportView(DoctorReadAuditMixin, APIView):
    permission_classes = [PatientWritesDoctorReads]
    audit_resource = AccessResource.REPORT

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A client asking for application/pdf still gets JSON errors: fall back to JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download a PDF health report",
        description="Patient, period, current medications with their schedules and notes, adherence, "
        "symptom log, severity chart, mood summary, the insight of the same window and a disclaimer; "
        "every script (Latin, Cyrillic, Greek, Devanagari, Arabic, CJK) with embedded fonts. " + PATIENT_REQUIRED_DOC,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF file."),
            400: SUBJECT_BAD_QUERY,
            404: SUBJECT_NOT_FOUND,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        days = validate_query(WindowDaysQuery, request)["days"]
        patient = subject.require(request)
        data = selectors.report_data(patient=patient, days=days)
        pdf = reports.build_health_report(data=data)
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
        responses={
            200: PatientOverviewSerializer,
            403: OpenApiResponse(description="Patients, and doctor accounts awaiting verification."),
            404: SUBJECT_NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = subject.require(request, patient_id=pk)
        return Response(PatientOverviewSerializer(selectors.patient_overview(patient=patient)).data)


_EXPORTS = {
    "json": (document.stream, "application/json", "json"),
    "csv": (spreadsheet.stream, "application/zip", "zip"),
    "fhir": (fhir.stream, "application/fhir+json", "fhir.json"),
}
DOCTORS_FHIR_ONLY = "Doctors may export an assigned patient's FHIR bundle only (?format=fhir&patient=<id>)."


@extend_schema(tags=["auth"])
class ExportView(DoctorReadAuditMixin, APIView):
    permission_classes = [IsAuthenticated]
    audit_resource = AccessResource.EXPORT

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # ?format= names the export, not a renderer; errors are JSON whatever the client accepts.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download everything about me: JSON, a ZIP of CSV files, or a FHIR R4 bundle",
        description=(
            "JSON: `{format, version, exported_at, profile, medications, reminders, symptoms, moods, "
            "caregivers, access_log, latest_insight}`, every list oldest first in the API's own shapes. "
            "`?format=csv`: a ZIP of UTF-8 CSV files with a header row (profile, medications, "
            "reminders, symptoms, moods, caregivers, access_log, latest_insight); a cell starting with `=`, `+`, "
            "`-`, `@`, a tab or a carriage return is prefixed with `'` so spreadsheets never run it. "
            "`?format=fhir`: a FHIR R4 `Bundle` of type `collection` (Patient, one MedicationStatement "
            "per medication with the regimen as `dosage.timing`, a MedicationAdministration per taken "
            "dose, an Observation per symptom and per mood, a RelatedPerson per caregiver in the "
            "patient's own export), validated with `fhir.resources`. "
            "Streamed. Rate-limited per user (`RATELIMIT_EXPORT`, default 10/h). Doctors: the FHIR "
            "bundle of an assigned patient with `?format=fhir&patient=<id>`, recorded in the "
            "patient's access log as `export`."
        ),
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The JSON document."),
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP of CSV files."),
            (200, "application/fhir+json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The FHIR bundle."),
            400: SUBJECT_BAD_QUERY,
            403: OpenApiResponse(description="Doctors: a format other than fhir, or an unverified account."),
            404: SUBJECT_NOT_FOUND,
            429: OpenApiResponse(description="Too many exports; see Retry-After."),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        chosen = validate_query(ExportQuerySerializer, request)["format"]
        if request.user.is_doctor and chosen != "fhir":
            raise PermissionDenied(DOCTORS_FHIR_ONLY)
        patient = subject.require(request)
        enforce_rate_limit(request, group="export", value=f"user:{request.user.pk}")
        write, content_type, extension = _EXPORTS[chosen]
        if request.user.is_doctor:  # an assigned patient's bundle: not their caregivers, which doctors never read
            write = partial(fhir.stream, caregivers=False)
        response = StreamingHttpResponse(export.snapshot(write, patient), content_type=content_type)
        filename = f"meditrack-export-{patient.pk}-{patient.local_today().isoformat()}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
