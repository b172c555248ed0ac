"""Celery entry points of accounts: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from accounts import services
from core.mail import EMAIL_TASK_RETRY


@shared_task(name="accounts.send_caregiver_invitation", ignore_result=True, **EMAIL_TASK_RETRY)
def send_caregiver_invitation(caregiver_id: int) -> str:
    """Email one caregiver invitation; safe to run twice (a conditional claim, see the service)."""
    return services.caregiver_send_invitation(caregiver_id=caregiver_id)
