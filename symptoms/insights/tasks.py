"""Celery tasks for AI insights (registered through ``CELERY_IMPORTS``): thin, they take ids
and call a service."""

from __future__ import annotations

import datetime
from itertools import islice

from celery import shared_task
from django.utils import timezone

from symptoms.insights import gemini, selectors, services


@shared_task(
    bind=True,
    autoretry_for=(gemini.GeminiUnavailable,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=120,
    time_limit=150,
)
def generate_gemini_insight(self, patient_id: int, days: int, end_date: str, key: str) -> str:
    """Ask Gemini for (patient, days, end date) and store the answer under ``key``; safe to run
    twice (see ``services.gemini_insight_store``). Transient failures retry with backoff."""
    return services.gemini_insight_store(
        patient_id=patient_id, days=days, end=datetime.date.fromisoformat(end_date), key=key
    )


@shared_task
def precompute_insights() -> int:
    """Hourly: fan out bounded batches of patient ids to precompute their insights."""
    ids = selectors.patients_due_for_precompute(timezone.now()).values_list("pk", flat=True).iterator()
    batches = 0
    while batch := list(islice(ids, services.PRECOMPUTE_BATCH_SIZE)):
        precompute_insights_batch.delay(batch)
        batches += 1
    return batches


@shared_task(soft_time_limit=240, time_limit=300)
def precompute_insights_batch(patient_ids: list[int]) -> int:
    return services.precompute_insights(patient_ids=patient_ids)
