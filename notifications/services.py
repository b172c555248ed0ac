"""Write use cases of notifications: push subscriptions and pushing a due dose."""

from __future__ import annotations

import logging
import time
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from medications.models import Reminder, ReminderStatus
from medications.services.delivery import confirm_url
from notifications import endpoints, webpush
from notifications.models import PushDelivery, PushDeliveryStatus, PushSubscription

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS_PER_USER = 20
UNANSWERED = (ReminderStatus.PENDING, ReminderStatus.SENT)


def subscription_save(*, user: User, endpoint: str, p256dh: str, auth: str) -> tuple[PushSubscription, bool]:
    """Store this browser's subscription (the same endpoint again replaces its keys and owner:
    whoever holds the endpoint is that browser). Returns (subscription, created)."""
    try:
        endpoints.validate_endpoint(endpoint)
    except endpoints.EndpointRefused as exc:
        raise ValidationError({"endpoint": [str(exc)]}) from None
    with transaction.atomic():
        existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if existing is None and user.push_subscriptions.count() >= MAX_SUBSCRIPTIONS_PER_USER:
            raise ValidationError({"endpoint": [f"At most {MAX_SUBSCRIPTIONS_PER_USER} subscriptions per account."]})
        subscription, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
        )
    return subscription, created


_NONE_CHECKED_AT: float | None = None  # when this process last saw that nobody has subscribed
NONE_RECHECK_SECONDS = 5.0


def any_push_subscription() -> bool:
    """Whether anyone has subscribed to push (so a due dose may need pushing). "Nobody" is
    remembered for a few seconds per process, so a sweep over many doses asks once."""
    global _NONE_CHECKED_AT
    if _NONE_CHECKED_AT is not None and time.monotonic() - _NONE_CHECKED_AT < NONE_RECHECK_SECONDS:
        return False
    if PushSubscription.objects.exists():
        _NONE_CHECKED_AT = None
        return True
    _NONE_CHECKED_AT = time.monotonic()
    return False


def forget_push_check() -> None:
    global _NONE_CHECKED_AT
    _NONE_CHECKED_AT = None


def subscription_delete(*, subscription: PushSubscription) -> None:
    subscription.delete()


def doses_push_enqueue(*, doses: list[tuple[int, int]]) -> int:
    """For each ``(reminder_id, patient_id)``: one delivery per subscription of the patient, each
    handed to the delivery task once (the unique (subscription, reminder) row: a second due
    signal for a dose adds nothing). Four queries for the whole list."""
    from notifications.tasks import send_push  # tasks call services, not the reverse, at import

    if not doses:
        return 0
    subscriptions: dict[int, list[int]] = defaultdict(list)
    for subscription_id, user_id in PushSubscription.objects.filter(
        user_id__in={patient_id for _, patient_id in doses}
    ).values_list("id", "user_id"):
        subscriptions[user_id].append(subscription_id)
    wanted = {(sid, reminder_id) for reminder_id, patient_id in doses for sid in subscriptions[patient_id]}
    if not wanted:
        return 0
    reminder_ids = {reminder_id for _, reminder_id in wanted}
    subscription_ids = {sid for sid, _ in wanted}
    mine = PushDelivery.objects.filter(reminder_id__in=reminder_ids, subscription_id__in=subscription_ids)
    new = wanted - set(mine.values_list("subscription_id", "reminder_id"))
    PushDelivery.objects.bulk_create(
        [PushDelivery(subscription_id=sid, reminder_id=reminder_id) for sid, reminder_id in sorted(new)],
        ignore_conflicts=True,
    )
    ids = [
        delivery_id
        for delivery_id, sid, reminder_id in mine.filter(attempts=0).values_list("id", "subscription_id", "reminder_id")
        if (sid, reminder_id) in new
    ]
    for delivery_id in ids:
        transaction.on_commit(lambda delivery_id=delivery_id: _enqueue(send_push, delivery_id))
    return len(ids)


def _enqueue(task, delivery_id: int) -> None:
    try:
        task.delay(delivery_id)
    except Exception:  # broker down: this push is lost; the email and the live event still go
        logger.warning("could not enqueue push delivery %s", delivery_id, exc_info=True)


def dose_payload(reminder: Reminder) -> dict:
    """What the notification shows: medication, dosage, local time, and the confirm link."""
    medication = reminder.medication
    local = reminder.scheduled_for.astimezone(reminder.patient.tzinfo)
    return {
        "type": "dose.due",
        "title": f"Time for {medication.name}",
        "body": f"{medication.dosage} at {local.strftime('%H:%M')}",
        "reminder_id": reminder.pk,
        "medication_name": medication.name,
        "dosage": medication.dosage,
        "local_time": local.strftime("%H:%M"),
        "local_date": local.date().isoformat(),
        "confirm_url": confirm_url(reminder.pk),
    }


def push_delivery_attempt(*, delivery_id: int, attempt: int, final: bool) -> str:
    """One try of one delivery. ``attempt`` is the number of tries already made; the
    compare-and-swap on ``attempts`` lets exactly one execution of each try through.
    Raises :class:`webpush.PushUnavailable` when the try should be repeated."""
    won = PushDelivery.objects.filter(pk=delivery_id, status=PushDeliveryStatus.PENDING, attempts=attempt).update(
        attempts=attempt + 1
    )
    if won != 1:
        return "noop"
    delivery = PushDelivery.objects.select_related("subscription", "reminder__medication", "reminder__patient").get(
        pk=delivery_id
    )
    reminder = delivery.reminder
    if reminder.status not in UNANSWERED or not reminder.patient.push_reminders_enabled:
        _finish(delivery_id, PushDeliveryStatus.SKIPPED)
        return "skipped"
    try:
        webpush.send(delivery.subscription, dose_payload(reminder))
    except webpush.PushGone:
        delivery.subscription.delete()  # the browser unsubscribed; its deliveries go with it
        logger.info("push subscription %s is gone; deleted", delivery.subscription_id)
        return "gone"
    except webpush.PushRefused as exc:
        _finish(delivery_id, PushDeliveryStatus.FAILED)
        logger.warning("push delivery %s refused (%s)", delivery_id, exc)
        return "failed"
    except webpush.PushUnavailable as exc:
        if final:
            _finish(delivery_id, PushDeliveryStatus.FAILED)
            logger.warning("push delivery %s failed for good (%s)", delivery_id, exc)
            return "failed"
        raise
    _finish(delivery_id, PushDeliveryStatus.SENT)
    PushSubscription.objects.filter(pk=delivery.subscription_id).update(last_success_at=timezone.now())
    return "sent"


def _finish(delivery_id: int, status: str) -> None:
    PushDelivery.objects.filter(pk=delivery_id).update(status=status, finished_at=timezone.now())
