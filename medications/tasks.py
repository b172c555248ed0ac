"""Celery entry points: thin, take primitives, call a service."""

from __future__ import annotations

from celery import shared_task

from core.mail import EMAIL_TASK_RETRY
from core.params import parse_instant
from medications import services


@shared_task(name="medications.send_due_reminders", ignore_result=True)
def send_due_reminders(at: str | None = None) -> dict[str, int]:
    """The periodic sweep (Celery beat). ``at``: ISO 8601 instant to sweep as of (default now).

    Safe to run twice or concurrently: see ``medications.services.sweep``.
    """
    return services.sweep(now=parse_instant(at) if at else None).as_dict()


@shared_task(bind=True, name="medications.retry_reminder_email", ignore_result=True, **EMAIL_TASK_RETRY)
def retry_reminder_email(self, reminder_id: int, claim: str) -> str:
    """Resend one reminder after a transient SMTP failure; after the last try it is failed."""
    return services.reminder_retry_delivery(
        reminder_id=reminder_id,
        claim=claim,
        attempt=self.request.retries + 1,
        final=self.request.retries >= self.max_retries,
    )


@shared_task(name="medications.check_stock", ignore_result=True, **EMAIL_TASK_RETRY)
def check_stock(medication_id: int) -> str:
    """After a stock movement: one "refill soon" email per refill cycle when the supply is low."""
    return services.stock_check(medication_id=medication_id)
