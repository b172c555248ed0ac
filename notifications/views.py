"""Thin views: permissions → input → one service/selector → output."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsPatient
from core.middleware import allow_html
from core.params import ID_PATH_REGEX
from notifications import services, webpush
from notifications.models import PushSubscription
from notifications.serializers import (
    PushSubscriptionInputSerializer,
    PushSubscriptionSerializer,
    VapidPublicKeySerializer,
)

FORBIDDEN = OpenApiResponse(description="Only patient accounts receive reminders.")


@extend_schema_view(
    list=extend_schema(
        summary="My browsers subscribed to push reminders",
        description="Each subscription a browser registered; due doses are pushed to all of them.",
    ),
    create=extend_schema(
        summary="Subscribe this browser to push reminders (its PushSubscription JSON)",
        description="Send `PushSubscription.toJSON()`; the endpoint must be an https URL on a public host.",
        request=PushSubscriptionInputSerializer,
        responses={
            201: PushSubscriptionSerializer,
            200: OpenApiResponse(PushSubscriptionSerializer, description="The endpoint was already subscribed."),
            400: OpenApiResponse(description="Validation errors (a refused endpoint among them)."),
            403: FORBIDDEN,
        },
    ),
    destroy=extend_schema(
        summary="Unsubscribe a browser",
        description="Nothing more is pushed to it.",
        responses={204: None, 403: FORBIDDEN, 404: OpenApiResponse()},
    ),
)
@extend_schema(tags=["notifications"])
class PushSubscriptionViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = PushSubscriptionSerializer
    permission_classes = [IsPatient]
    lookup_value_regex = ID_PATH_REGEX
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PushSubscription.objects.none()
        return PushSubscription.objects.filter(user=self.request.user)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = PushSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription, created = services.subscription_save(
            user=request.user, endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"]
        )
        return Response(
            PushSubscriptionSerializer(subscription).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance: PushSubscription) -> None:
        services.subscription_delete(subscription=instance)


@extend_schema(
    tags=["notifications"],
    summary="The server's VAPID public key (for PushManager.subscribe)",
    description="Pass it as `applicationServerKey` to `PushManager.subscribe()`.",
)
class VapidPublicKeyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: VapidPublicKeySerializer})
    def get(self, request: Request) -> Response:
        return Response({"public_key": webpush.vapid_keys().public_key})


# --- The demo page (plain HTML, outside the API schema) --------------------------------------------

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_ASSETS = {"demo.js": "text/javascript", "sw.js": "text/javascript", "demo.css": "text/css"}


def _websocket_origin(request: HttpRequest) -> str:
    if settings.WEBSOCKET_URL:
        parts = urlsplit(settings.WEBSOCKET_URL)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"


class DemoPageView(View):
    """Log in, subscribe this browser to push, and watch live events: how a newcomer tries push
    with `make run`. Static HTML; everything it does goes through the public API."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        response = render(request, "notifications/demo.html", {"websocket_url": settings.WEBSOCKET_URL})
        response._csp_update = {"connect-src": [_websocket_origin(request)]}  # django-csp, this response only
        return allow_html(response)


class DemoAssetView(View):
    """The demo's script, style and service worker (the worker's scope is the demo page)."""

    http_method_names = ["get"]
    name = ""

    def get(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse((DEMO_DIR / self.name).read_bytes(), content_type=DEMO_ASSETS[self.name])
        response["Cache-Control"] = "no-cache"
        return response
