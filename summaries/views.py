"""The reads across apps: the dashboard, the PDF report and the doctor's patient overview.

Whose data: ``accounts.subject`` (a patient: their own; a doctor: ``?patient=<id>``, required,
or the overview's URL id).
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import subject
from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource
from accounts.permissions import IsVerifiedDoctor, PatientWritesDoctorReads
from accounts.readcache import cached_patient_read
from core.params import PATIENT_REQUIRED_DOC, PatientQuerySerializer, WindowDaysQuery, validate_query
from summaries import reports, selectors
from summaries.serializers import DashboardSerializer, PatientOverviewSerializer

_BAD_QUERY = OpenApiResponse(description="A malformed query parameter, or a doctor without ?patient=.")
_NOT_FOUND = OpenApiResponse(description="Not found (or not yours / not your patient's).")


@extend_schema(tags=["dashboard"])
class DashboardView(DoctorReadAuditMixin, APIView):
    permission_classes = [PatientWritesDoctorReads]
    audit_resource = AccessResource.DASHBOARD

    @extend_schema(
        summary="Chart.js dashboard: symptom trends, most frequent symptoms, stats",
        description="Every date of the window is present (`null` average and `0` count on empty days). "
        + PATIENT_REQUIRED_DOC,
        parameters=[WindowDaysQuery, PatientQuerySerializer],
        responses={200: DashboardSerializer, 400: _BAD_QUERY, 404: _NOT_FOUND},
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
            400: _BAD_QUERY,
            404: _NOT_FOUND,
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
            403: OpenApiResponse(description="Doctors cannot write; unverified doctors cannot read."),
            404: _NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = subject.require(request, patient_id=pk)
        return Response(PatientOverviewSerializer(selectors.patient_overview(patient=patient)).data)
