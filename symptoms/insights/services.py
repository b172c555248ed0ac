"""AI insight use cases: read the cache, generate (built-in analysis, Gemini), precompute.

Request flow (:func:`generate_insight`): the built-in analysis is computed first (a few SQL
aggregates). Without a Gemini key it is the answer. With one, a Celery task asks Gemini and the
request polls the shared cache for at most ``INSIGHTS_WAIT_SECONDS`` (≤ 20 s); when Gemini is
slow or fails, the request answers with the built-in analysis, cached briefly, and a late
Gemini answer replaces it in the cache. When the broker cannot take the task, Gemini is called
from a background thread of this process with the same budget.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import User
from accounts.readcache import data_version
from medications.events import send_on_commit
from symptoms.insights import analysis, gemini, narrative
from symptoms.insights import cache as insight_cache
from symptoms.insights.events import insight_ready
from symptoms.insights.prompt import SYSTEM_INSTRUCTION, build_prompt

logger = logging.getLogger(__name__)

DISCLAIMER = (
    "These are automatic observations from the symptoms, moods and medications you logged. They "
    "are not a diagnosis or medical advice. Talk to your doctor or pharmacist before making any "
    "change to your treatment, and seek urgent care for severe or sudden symptoms."
)
POLL_SECONDS = 0.2

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    global _executor  # one lazily created pool per process
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="insights-gemini")
        return _executor


# --- Payloads ------------------------------------------------------------------------------------


def _payload(content: dict[str, Any], *, window: analysis.Window, symptom_count: int, source: str) -> dict[str, Any]:
    return {
        "insight": content["insight"],
        "patterns": content["patterns"],
        "medication_correlations": content["medication_correlations"],
        "recommendations": content["recommendations"],
        "analyzed_period": window.label,
        "symptom_count": symptom_count,
        "source": source,
        "generated_at": timezone.now().isoformat(),
        "disclaimer": DISCLAIMER,
    }


def local_insight(*, patient, window: analysis.Window) -> tuple[dict[str, Any], dict[str, Any]]:
    """The built-in analysis as a response payload, and the facts it was computed from."""
    facts = analysis.collect_facts(patient, window)
    described = narrative.describe(facts)
    return _payload(described, window=window, symptom_count=facts["count"], source="local"), facts


def _from_gemini(result: gemini.GeminiInsight, local: dict[str, Any]) -> dict[str, Any]:
    """Gemini's text with the exact numbers of the built-in analysis attached to each medication."""
    numbers = {item["medication"].casefold(): item for item in local["medication_correlations"]}
    correlations = []
    for item in result.medication_correlations:
        known = numbers.get(item["medication"].casefold(), {})
        correlations.append(
            {
                "medication": item["medication"],
                "observation": item["observation"],
                "started_on": known.get("started_on"),
                "avg_severity_before": known.get("avg_severity_before"),
                "avg_severity_after": known.get("avg_severity_after"),
                "linked_symptoms": known.get("linked_symptoms", []),
                "worsened_symptoms": known.get("worsened_symptoms", []),
            }
        )
    return {
        **local,
        "insight": result.summary,
        "patterns": result.patterns,
        "medication_correlations": correlations,
        "recommendations": result.recommendations or local["recommendations"],
        "source": "gemini",
        "generated_at": timezone.now().isoformat(),
    }


def complete_with_gemini(*, prompt: str, local: dict[str, Any], key: str, patient_id: int, timeout: float) -> bool:
    """Ask Gemini; on success store its answer under ``key`` (replacing a built-in one).

    On failure the key is marked failed, so a waiting request stops waiting, and the
    :class:`~symptoms.insights.gemini.GeminiError` is raised for the caller to retry or drop.
    """
    try:
        result = gemini.generate(prompt, system_instruction=SYSTEM_INSTRUCTION, timeout_seconds=timeout)
    except gemini.GeminiError:
        insight_cache.mark_failed(key)
        logger.info("Gemini insight failed for patient %s", patient_id)
        raise
    insight_cache.put_result(
        key, _from_gemini(result, local), patient_id=patient_id, timeout=settings.INSIGHTS_CACHE_SECONDS
    )
    logger.info("Gemini insight stored for patient %s", patient_id)
    return True


# --- Reads -----------------------------------------------------------------------------------------


def insight_key(*, patient, days: int, end: datetime.date | None = None) -> str:
    end = end or patient.local_today()
    return insight_cache.result_key(patient.pk, days, end, data_version(patient.pk))


def cached_insight(*, patient, days: int) -> dict[str, Any] | None:
    """The cached answer for (patient, days) at the current data version; no database query."""
    return insight_cache.get_result(insight_key(patient=patient, days=days))


def latest_insight(patient) -> dict[str, Any] | None:
    """The most recently generated insight for ``patient`` (any window), or None. No generation.

    For the PDF report. It may predate the patient's newest entries; its ``analyzed_period``
    and ``generated_at`` say what it covers.
    """
    return insight_cache.store().get(insight_cache.latest_key(patient.pk))


# --- Generation ------------------------------------------------------------------------------------


def _pending_seconds() -> int:
    return int(settings.INSIGHTS_WAIT_SECONDS + settings.GEMINI_TIMEOUT_SECONDS) + 5


def _dispatch(*, patient, days: int, window: analysis.Window, key: str, local: dict, facts: dict) -> None:
    """Hand the Gemini call to a Celery worker, or to a thread here when the broker is down."""
    from symptoms.insights import tasks  # local import: tasks import this module

    try:
        tasks.generate_gemini_insight.apply_async(args=[patient.pk, days, window.end.isoformat(), key])
        return
    except (OperationalError, OSError):
        logger.warning("Broker unavailable; asking Gemini in-process for patient %s", patient.pk)
    prompt = build_prompt(patient, window, facts)
    # The request stops waiting at its own deadline; the thread may finish later and, like a
    # worker, replace the built-in answer in the cache.
    _background().submit(
        _complete_quietly,
        prompt=prompt,
        local=local,
        key=key,
        patient_id=patient.pk,
        timeout=settings.GEMINI_TIMEOUT_SECONDS,
    )


def _complete_quietly(**kwargs: Any) -> None:
    # A failure is already marked and logged; the built-in answer stands.
    with contextlib.suppress(gemini.GeminiError):
        complete_with_gemini(**kwargs)


def _has_data(facts: dict[str, Any]) -> bool:
    """Gemini is only worth asking when something was logged in the window."""
    return bool(facts["count"] or facts["mood"]["count"])


def _wait_for_gemini(key: str, deadline: float) -> dict[str, Any] | None:
    while True:
        found = insight_cache.get_result(key)
        if found is not None and found.get("source") == "gemini":
            return found
        if insight_cache.has_failed(key) or time.monotonic() >= deadline:
            return None
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def generate_insight(*, patient, days: int, use_gemini: bool = True) -> dict[str, Any]:
    """A fresh answer for (patient, days), stored in the cache. Never raises for Gemini trouble."""
    deadline = time.monotonic() + settings.INSIGHTS_WAIT_SECONDS
    window = analysis.window_for(patient, days)
    key = insight_key(patient=patient, days=days, end=window.end)
    local, facts = local_insight(patient=patient, window=window)
    if not gemini.is_configured() or not _has_data(facts):
        insight_cache.put_result(key, local, patient_id=patient.pk, timeout=settings.INSIGHTS_CACHE_SECONDS)
        return local
    if use_gemini:
        if insight_cache.claim_generation(key, seconds=_pending_seconds()):
            _dispatch(patient=patient, days=days, window=window, key=key, local=local, facts=facts)
        found = _wait_for_gemini(key, deadline)
        if found is not None:
            return found
    # Gemini is slow, failing, rate limited or has nothing to read: the built-in answer, kept
    # briefly so Gemini gets another chance soon (a late Gemini answer replaces it).
    if not insight_cache.put_result(
        key, local, patient_id=patient.pk, timeout=settings.INSIGHTS_FALLBACK_CACHE_SECONDS, replace=False
    ):
        landed = insight_cache.get_result(key)
        if landed is not None:
            return landed
    return local


def precompute_insight(*, patient, days: int) -> str:
    """Beat work for one patient: store the built-in answer and enqueue Gemini when configured.

    Safe to repeat: an answer already cached at the current data version is left alone, and the
    pending claim lets only one Gemini task run per key.
    """
    from symptoms.insights import tasks  # local import: tasks import this module

    window = analysis.window_for(patient, days)
    key = insight_key(patient=patient, days=days, end=window.end)
    existing = insight_cache.get_result(key)
    if existing is not None and (existing["source"] == "gemini" or not gemini.is_configured()):
        return "cached"
    local, facts = local_insight(patient=patient, window=window)
    if not gemini.is_configured() or not _has_data(facts):
        insight_cache.put_result(key, local, patient_id=patient.pk, timeout=settings.INSIGHTS_CACHE_SECONDS)
        return "local"
    insight_cache.put_result(
        key, local, patient_id=patient.pk, timeout=settings.INSIGHTS_FALLBACK_CACHE_SECONDS, replace=False
    )
    if insight_cache.claim_generation(key, seconds=_pending_seconds()):
        tasks.generate_gemini_insight.delay(patient.pk, days, window.end.isoformat(), key)
        return "enqueued"
    return "local"


# --- The tasks' work -------------------------------------------------------------------------------

PRECOMPUTE_BATCH_SIZE = 50


def gemini_insight_store(*, patient_id: int, days: int, end: datetime.date, key: str) -> str:
    """Ask Gemini for (patient, days, end date) and store the answer under ``key``.

    Idempotent: when ``key`` already holds a Gemini answer (a redelivered message, a second
    request), nothing is sent. A transient failure (429, 5xx, timeout) raises
    ``GeminiUnavailable`` for the task to retry; a malformed or refused answer is final
    ("failed") and the built-in analysis stays in the cache.
    """
    existing = insight_cache.get_result(key)
    if existing is not None and existing.get("source") == "gemini":
        return "exists"
    patient = User.objects.patients().filter(pk=patient_id).first()
    if patient is None:
        return "gone"
    window = analysis.window_for(patient, days, end=end)
    local, facts = local_insight(patient=patient, window=window)
    try:
        complete_with_gemini(
            prompt=build_prompt(patient, window, facts),
            local=local,
            key=key,
            patient_id=patient_id,
            timeout=settings.GEMINI_TIMEOUT_SECONDS,
        )
    except gemini.GeminiUnavailable:
        raise
    except gemini.GeminiError:
        return "failed"
    send_on_commit(insight_ready, sender=User, patient_id=patient_id)
    return "stored"


def precompute_insights(*, patient_ids: list[int]) -> int:
    """The precompute of one batch of patients (at most ``PRECOMPUTE_BATCH_SIZE``)."""
    done = 0
    for patient in User.objects.patients().filter(pk__in=patient_ids[:PRECOMPUTE_BATCH_SIZE]).order_by("pk"):
        if precompute_insight(patient=patient, days=settings.INSIGHTS_PRECOMPUTE_DAYS) == "local":
            send_on_commit(insight_ready, sender=User, patient_id=patient.pk)  # stored; Gemini's sends its own
        done += 1
    return done
