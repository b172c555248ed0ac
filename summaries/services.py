"""Write use cases of the summaries: the weekly digest (claim, send, record)."""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from core.mail import EmailDeliveryError, send_templated_email
from summaries import selectors
from summaries.models import DigestDelivery

logger = logging.getLogger(__name__)

# --- Weekly digest ----------------------------------------------------------------------------

DIGEST_LOCAL_TIME = datetime.time(9, 0)
# How long after Sunday 09:00 local a digest may still go out (the beat ticks every 15 minutes;
# the rest covers a worker or beat that was down for a while).
DIGEST_CATCH_UP = datetime.timedelta(hours=3)
DIGEST_BATCH_SIZE = 500
SUNDAY = 6


class DigestTransientError(Exception):
    """The email could not be sent this time; the task retries with backoff."""


def digest_week_of(*, local_now: datetime.datetime) -> datetime.date | None:
    """The local Sunday whose digest is due at ``local_now``, or None outside the window."""
    if local_now.weekday() != SUNDAY:
        return None
    due = local_now.replace(hour=DIGEST_LOCAL_TIME.hour, minute=DIGEST_LOCAL_TIME.minute, second=0, microsecond=0)
    if due <= local_now < due + DIGEST_CATCH_UP:
        return local_now.date()
    return None


def digest_due_patients(
    *, now: datetime.datetime | None = None, limit: int = DIGEST_BATCH_SIZE
) -> list[tuple[int, str]]:
    """``(patient_id, week_of)`` pairs whose digest is due and not yet claimed, at most ``limit``.

    Time zones are few, patients many: the window is computed once per distinct zone, and the
    patients are selected by the database.
    """
    now = now or timezone.now()
    subscribers = User.objects.filter(role=Role.PATIENT, is_active=True, email_digest_enabled=True).exclude(email="")
    due: list[tuple[int, str]] = []
    for zone in subscribers.values_list("timezone", flat=True).distinct().order_by("timezone"):
        probe = User(timezone=zone or "UTC")
        week_of = digest_week_of(local_now=now.astimezone(probe.tzinfo))
        if week_of is None:
            continue
        ids = (
            subscribers.filter(timezone=zone)
            .exclude(digest_deliveries__week_of=week_of)
            .order_by("id")
            .values_list("id", flat=True)[: limit - len(due)]
        )
        due.extend((pk, week_of.isoformat()) for pk in ids)
        if len(due) >= limit:
            break
    return due


def digest_send(*, patient_id: int, week_of: datetime.date) -> bool:
    """Send one patient's digest for ``week_of`` at most once. True when this call sent it.

    Idempotent by the ``digest_one_per_patient_week`` constraint: the row is claimed first; a
    second call finds it and stops. A transient failure releases the claim and raises, so the
    retry can claim it again; a permanent one keeps it as ``failed``.
    """
    patient = User.objects.filter(pk=patient_id, role=Role.PATIENT, is_active=True, email_digest_enabled=True).first()
    if patient is None or not patient.email:
        return False
    try:
        with transaction.atomic():
            delivery = DigestDelivery.objects.create(patient=patient, week_of=week_of)
    except IntegrityError:
        return False
    context = selectors.digest_context(patient=patient, week_of=week_of)
    try:
        send_templated_email(
            to=patient.email,
            subject="Your MediTrack weekly summary",
            template="summaries/email/weekly_digest",
            context=context,
        )
    except EmailDeliveryError as exc:
        if exc.permanent:
            DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.FAILED)
            logger.warning("Weekly digest %s for patient %s failed permanently", delivery.pk, patient.pk)
            return False
        DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.SENDING).delete()
        raise DigestTransientError(str(exc)) from exc
    DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.SENT, sent_at=timezone.now())
    logger.info("Weekly digest %s sent to patient %s", delivery.pk, patient.pk)
    return True
