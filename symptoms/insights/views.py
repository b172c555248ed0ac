from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import subject
from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource
from core.params import validate_query
from core.ratelimit import rate_limit_wait
from symptoms.insights import services
from symptoms.insights.serializers import InsightSerializer, InsightsQuerySerializer

DESCRIPTION = """
Observations about the patient's symptom patterns, medication correlations and mood over the
last `days` days (in the patient's time zone), with gentle recommendations. Never a diagnosis.

* **Source**: Google Gemini when the server has a `GEMINI_API_KEY`; otherwise, or when Gemini
  fails, answers malformed output or takes longer than the wait budget (at most 20 seconds),
  the built-in statistical analysis (`source: "local"`): most frequent symptoms, severity trend,
  severity before vs after each medication's start, symptoms linked to each medication, mood vs
  symptom load. A late Gemini answer replaces the built-in one in the cache.
* **Caching**: one answer per (patient, days) for 24 hours (`cached: true`); any new, edited or
  deleted symptom, mood or medication makes the next call generate a fresh answer.
* **Rate limit**: fresh generations are limited per user (default 10 per hour). A cached answer
  is always free; over the limit the answer is the built-in analysis and Gemini is not called.
* **Doctors** pass `?patient=<id>` of an assigned patient (unassigned: 404; unverified doctor: 403).
* **Privacy**: the text sent to Gemini has no name, username, email, phone or birth date.
"""


class InsightsView(DoctorReadAuditMixin, APIView):
    audit_resource = AccessResource.INSIGHTS

    @extend_schema(
        tags=["symptoms"],
        summary="AI health insights",
        description=DESCRIPTION,
        parameters=[InsightsQuerySerializer],
        responses={
            200: InsightSerializer,
            400: OpenApiResponse(description="Invalid `days` (1–90) or `patient`, or a doctor omitted `patient`."),
            403: OpenApiResponse(description="Unverified doctor account."),
            404: OpenApiResponse(description="Not your patient."),
        },
    )
    def get(self, request: Request) -> Response:
        params = validate_query(InsightsQuerySerializer, request)
        patient = subject.require(request)
        days = params["days"]
        payload = services.cached_insight(patient=patient, days=days)
        if payload is not None:
            return Response({**payload, "cached": True})
        # Each fresh generation counts against the caller's limit; over it, the built-in analysis.
        use_gemini = rate_limit_wait(request, group="insights", value=f"user:{request.user.pk}") is None
        payload = services.generate_insight(patient=patient, days=days, use_gemini=use_gemini)
        return Response({**payload, "cached": False})
