"""Celery entry points: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from notifications import services
from notifications.webpush import PushUnavailable


@shared_task(
    bind=True,
    name="notifications.send_push",
    ignore_result=True,
    autoretry_for=(PushUnavailable,),
    retry_backoff=15,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def send_push(self, delivery_id: int) -> str:
    """Push one due dose to one subscription; retried with backoff while the push service is
    unavailable, failed after the last try. Safe to run twice (see the service)."""
    return services.push_delivery_attempt(
        delivery_id=delivery_id,
        attempt=self.request.retries,
        final=self.request.retries >= self.max_retries,
    )
