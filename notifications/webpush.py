"""The Web Push adapter (the only module that talks to push services): VAPID keys (RFC 8292),
payload encryption (RFC 8291, through ``pywebpush``) and the POST to the subscription's
endpoint (RFC 8030) through the SSRF-guarded session."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from notifications.endpoints import ConnectionRefusedByGuard, EndpointRefused, GuardedSession
from notifications.models import PushSubscription, VapidKeyPair

logger = logging.getLogger(__name__)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_of(vapid: Vapid) -> str:
    point = vapid.public_key.public_bytes(
        encoding=serialization.Encoding.X962, format=serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def _from_setting(private_key: str) -> Vapid:
    try:
        if private_key.lstrip().startswith("-----BEGIN"):
            return Vapid.from_pem(private_key.strip().encode())
        return Vapid.from_string(private_key.strip())
    except Exception as exc:  # py_vapid raises a variety of errors for a malformed key
        raise ImproperlyConfigured(
            "VAPID_PRIVATE_KEY must be a P-256 private key: base64url (raw 32 bytes or DER) or PEM."
        ) from exc


@dataclass(frozen=True)
class VapidKeys:
    vapid: Vapid
    public_key: str  # base64url uncompressed point: the browser's applicationServerKey


_cached: VapidKeys | None = None


def vapid_keys() -> VapidKeys:
    """The configured key pair, else the one generated on first use and kept in the database
    (so web, worker and manage.py sign with the same key)."""
    global _cached  # one per process
    if _cached is not None:
        return _cached
    if settings.VAPID_PRIVATE_KEY:
        vapid = _from_setting(settings.VAPID_PRIVATE_KEY)
        public = _public_of(vapid)
        if settings.VAPID_PUBLIC_KEY and settings.VAPID_PUBLIC_KEY.rstrip("=") != public:
            raise ImproperlyConfigured("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY.")
        _cached = VapidKeys(vapid, public)
        return _cached
    if settings.VAPID_PUBLIC_KEY:
        raise ImproperlyConfigured("VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY.")
    stored = VapidKeyPair.objects.filter(pk=1).first()
    if stored is None:
        private = ec.generate_private_key(ec.SECP256R1())
        raw = private.private_numbers().private_value.to_bytes(32, "big")
        vapid = Vapid.from_raw(_b64url(raw).encode())
        try:
            with transaction.atomic():
                stored = VapidKeyPair.objects.create(pk=1, private_key=_b64url(raw), public_key=_public_of(vapid))
        except IntegrityError:  # another process generated it first: use theirs
            stored = VapidKeyPair.objects.get(pk=1)
        else:
            logger.info("generated the VAPID key pair (stored in the database)")
    _cached = VapidKeys(Vapid.from_raw(stored.private_key.encode()), stored.public_key)
    return _cached


def forget_keys() -> None:
    """Tests: read the keys again."""
    global _cached
    _cached = None


def vapid_subject() -> str:
    if settings.VAPID_SUBJECT:
        return settings.VAPID_SUBJECT
    address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
    return f"mailto:{address}"


class PushGone(Exception):
    """The push service says the subscription no longer exists (404/410)."""


class PushRefused(Exception):
    """A failure that trying again will not fix (bad request, refused endpoint, a redirect)."""


class PushUnavailable(Exception):
    """A failure worth retrying (the push service is down, slow or rate limiting)."""


def send(subscription: PushSubscription, payload: dict[str, Any]) -> int:
    """Encrypt ``payload`` to the subscription and POST it; returns the status code (2xx).

    Raises :class:`PushGone`, :class:`PushRefused` or :class:`PushUnavailable`.
    """
    keys = vapid_keys()
    session = GuardedSession()
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=keys.vapid,
            vapid_claims={"sub": vapid_subject()},
            content_encoding="aes128gcm",
            timeout=settings.WEBPUSH_TIMEOUT_SECONDS,
            ttl=settings.WEBPUSH_TTL_SECONDS,
            headers={"Urgency": "high"},
            requests_session=session,
        )
    except EndpointRefused as exc:
        raise PushRefused(str(exc)) from None
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise PushGone(status) from None
        if status is not None and (status == 429 or status >= 500):
            raise PushUnavailable(status) from None
        raise PushRefused(status or str(exc)) from None
    except requests.RequestException as exc:
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, ConnectionRefusedByGuard):
            raise PushRefused("endpoint refused at delivery") from None
        raise PushUnavailable(type(exc).__name__) from None
    finally:
        session.close()
    if not 200 <= response.status_code < 300:  # a redirect (never followed) or another oddity
        raise PushRefused(response.status_code)
    return response.status_code
