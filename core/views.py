from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.views import View
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.health import health_report

_HealthSerializer = inline_serializer(
    name="Health",
    fields={
        "database": serializers.ChoiceField(choices=["ok", "error"]),
        "cache": serializers.ChoiceField(choices=["ok", "error"]),
        "broker": serializers.ChoiceField(choices=["ok", "error"]),
    },
)


class HealthView(APIView):
    """Is the service able to work? 200 when database, cache and broker answer, else 503."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        summary="Service health",
        description="200 when the database, the cache and the broker answer, else 503 naming the one down.",
        responses={200: _HealthSerializer, 503: _HealthSerializer},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        report, healthy = health_report()
        return Response(report, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)


_MetaSerializer = inline_serializer(
    name="ApiMeta",
    fields={"name": serializers.CharField(), "version": serializers.CharField()},
)


class MetaView(APIView):
    """The API's name and version. Touches neither the database nor the cache, so it also serves
    as the machine's ceiling in the benchmark (``make bench``)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        summary="API name and version",
        description="Touches neither the database nor the cache.",
        responses={200: _MetaSerializer},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"name": settings.SPECTACULAR_SETTINGS["TITLE"], "version": settings.SPECTACULAR_SETTINGS["VERSION"]}
        )


class DocsRedirectView(View):
    """``/`` and ``/api/``: whoever opens the server's address lands on the docs (GET only)."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest) -> HttpResponseRedirect:
        return HttpResponseRedirect("/api/docs/")
