"""Celery tasks for AI insights (registered through ``CELERY_IMPORTS``). They take ids only."""

from __future__ import annotations

import datetime
import logging
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery import shared_task
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from medications.events import send_on_commit
from medications.models import Medication
from symptoms.insights import analysis, gemini, services
from symptoms.insights import cache as insight_cache
from symptoms.insights.events import insight_ready
from symptoms.insights.prompt import build_prompt
from symptoms.models import Mood, Symptom

logger = logging.getLogger(__name__)

BATCH_SIZE = 50


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
    """Ask Gemini for (patient, days, end date) and store the answer under ``key``.

    Idempotent: when ``key`` already holds a Gemini answer (a redelivered message, a second
    request), nothing is sent. Transient failures (429, 5xx, timeouts) retry with backoff;
    a malformed or refused answer is final and the built-in analysis stays in the cache.
    """
    existing = insight_cache.get_result(key)
    if existing is not None and existing.get("source") == "gemini":
        return "exists"
    patient = User.objects.patients().filter(pk=patient_id).first()
    if patient is None:
        return "gone"
    end = datetime.date.fromisoformat(end_date)
    window = analysis.Window(start=end - datetime.timedelta(days=days - 1), end=end, days=days)
    local, facts = services.local_insight(patient=patient, window=window)
    prompt = build_prompt(patient, window, facts)
    try:
        services.complete_with_gemini(
            prompt=prompt, local=local, key=key, patient_id=patient_id, timeout=settings.GEMINI_TIMEOUT_SECONDS
        )
    except gemini.GeminiUnavailable:
        raise  # autoretry with backoff
    except gemini.GeminiError:
        return "failed"
    send_on_commit(insight_ready, sender=User, patient_id=patient_id)
    return "stored"


def patients_due_for_precompute(now: datetime.datetime):
    """Patients active in the last day whose local hour is ``INSIGHTS_PRECOMPUTE_HOUR`` now.

    Running hourly, each active patient is handled once a day, early in their own morning, so
    the answer is ready for the local day it covers.
    """
    since = now - datetime.timedelta(days=1)
    active = User.objects.patients().filter(
        Exists(Symptom.objects.filter(patient=OuterRef("pk"), logged_at__gte=since))
        | Exists(Mood.objects.filter(patient=OuterRef("pk"), logged_at__gte=since))
        | Exists(Medication.objects.filter(patient=OuterRef("pk"), updated_at__gte=since))
    )
    zones = set(active.order_by().values_list("timezone", flat=True).distinct())
    due_zones = [zone for zone in zones if _local_hour(now, zone) == settings.INSIGHTS_PRECOMPUTE_HOUR]
    return active.filter(timezone__in=due_zones).order_by("pk")


def _local_hour(now: datetime.datetime, zone: str) -> int | None:
    try:
        return now.astimezone(ZoneInfo(zone or "UTC")).hour
    except (ZoneInfoNotFoundError, ValueError):
        return None


@shared_task
def precompute_insights() -> int:
    """Hourly: fan out bounded batches of patient ids to precompute their insights."""
    ids = patients_due_for_precompute(timezone.now()).values_list("pk", flat=True).iterator()
    batches = 0
    while batch := list(islice(ids, BATCH_SIZE)):
        precompute_insights_batch.delay(batch)
        batches += 1
    return batches


@shared_task(soft_time_limit=240, time_limit=300)
def precompute_insights_batch(patient_ids: list[int]) -> int:
    done = 0
    for patient in User.objects.patients().filter(pk__in=patient_ids[:BATCH_SIZE]).order_by("pk"):
        if services.precompute_insight(patient=patient, days=settings.INSIGHTS_PRECOMPUTE_DAYS) == "local":
            send_on_commit(insight_ready, sender=User, patient_id=patient.pk)  # stored; Gemini's sends its own
        done += 1
    return done
