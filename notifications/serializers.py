"""Input/output shapes of the notifications API: no queries, no side effects."""

from __future__ import annotations

import base64
import binascii

from rest_framework import serializers

from core.serializers import StrictJSONTypesMixin
from notifications.endpoints import MAX_ENDPOINT_LENGTH
from notifications.models import PushSubscription


def _b64url_bytes(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise serializers.ValidationError("Must be base64url.") from None


class PushKeysSerializer(StrictJSONTypesMixin, serializers.Serializer):
    p256dh = serializers.CharField(
        max_length=128, help_text="The browser's P-256 public key (base64url, 65-byte uncompressed point)."
    )
    auth = serializers.CharField(max_length=64, help_text="The browser's auth secret (base64url, 16 bytes).")

    def validate_p256dh(self, value: str) -> str:
        raw = _b64url_bytes(value)
        if len(raw) != 65 or raw[0] != 4:
            raise serializers.ValidationError("Must be a 65-byte uncompressed P-256 point, base64url.")
        return value.rstrip("=")

    def validate_auth(self, value: str) -> str:
        if len(_b64url_bytes(value)) != 16:
            raise serializers.ValidationError("Must be 16 bytes, base64url.")
        return value.rstrip("=")


class PushSubscriptionInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """The browser's ``PushSubscription.toJSON()``."""

    endpoint = serializers.CharField(
        max_length=MAX_ENDPOINT_LENGTH,
        help_text="The push service URL: https on a public host (no private, loopback or link-local address).",
    )
    keys = PushKeysSerializer()
    expirationTime = serializers.FloatField(  # the browser's name (a DOMHighResTimeStamp or null)
        required=False, allow_null=True, help_text="Ignored (the browser's own field)."
    )


class PushSubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PushSubscription
        fields = ("id", "endpoint", "created_at", "last_success_at")
        read_only_fields = fields


class VapidPublicKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="The server's VAPID public key (base64url): PushManager.subscribe's applicationServerKey."
    )
