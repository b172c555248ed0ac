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
        responses={200: _HealthSerializer, 503: _HealthSerializer},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        report, healthy = health_report()
        return Response(report, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)
