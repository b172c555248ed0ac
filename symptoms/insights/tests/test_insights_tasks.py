"""Celery tasks (called directly), cache versioning and signals."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.readcache import bump_versions, data_version
from accounts.tests.factories import PatientFactory
from symptoms.insights import cache as insight_cache
from symptoms.insights import gemini, selectors, services, tasks
from symptoms.insights.tests.factories import MedicationFactory, MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db


def _args(patient, days=7):
    key = services.insight_key(patient=patient, days=days)
    return [patient.pk, days, patient.local_today().isoformat(), key], key


def test_gemini_task_stores_the_answer_once(patient, fake_gemini):
    SymptomFactory(patient=patient)
    args, key = _args(patient)

    assert tasks.generate_gemini_insight(*args) == "stored"
    assert tasks.generate_gemini_insight(*args) == "exists"  # redelivered: no second call

    assert len(fake_gemini.requests) == 1
    stored = insight_cache.get_result(key)
    assert stored["source"] == "gemini"
    assert services.cached_insight(patient=patient, days=7) == stored
    assert services.latest_insight(patient) == stored


def test_gemini_task_replaces_a_local_answer(patient, fake_gemini):
    SymptomFactory(patient=patient)
    args, key = _args(patient)
    insight_cache.put_result(key, {"source": "local"}, patient_id=patient.pk, timeout=60)
    assert tasks.generate_gemini_insight(*args) == "stored"
    assert insight_cache.get_result(key)["source"] == "gemini"


@pytest.mark.parametrize("mode", ["429", "500", "slow"])
def test_transient_failures_raise_for_celery_retry_and_mark_the_key(patient, fake_gemini, settings, mode):
    settings.GEMINI_TIMEOUT_SECONDS = 0.3
    fake_gemini.mode = mode
    SymptomFactory(patient=patient)
    args, key = _args(patient)
    with pytest.raises(gemini.GeminiUnavailable):
        tasks.generate_gemini_insight(*args)
    assert insight_cache.has_failed(key)
    assert insight_cache.get_result(key) is None
    assert tasks.generate_gemini_insight.autoretry_for == (gemini.GeminiUnavailable,)
    assert tasks.generate_gemini_insight.retry_backoff


def test_malformed_answer_is_final(patient, fake_gemini):
    fake_gemini.mode = "malformed"
    SymptomFactory(patient=patient)
    args, key = _args(patient)
    assert tasks.generate_gemini_insight(*args) == "failed"
    assert insight_cache.has_failed(key)


def test_gemini_task_for_a_deleted_patient_is_a_no_op(fake_gemini):
    assert tasks.generate_gemini_insight(999_999, 7, "2026-01-01", "result:x") == "gone"
    assert fake_gemini.requests == []


# --- Precompute -----------------------------------------------------------------------------------


def test_due_patients_are_recently_active_and_in_their_precompute_hour(settings):
    now = timezone.now()
    settings.INSIGHTS_PRECOMPUTE_HOUR = now.astimezone(datetime.UTC).hour
    active_utc = PatientFactory(timezone="UTC")
    SymptomFactory(patient=active_utc)
    mood_only = PatientFactory(timezone="UTC")
    MoodFactory(patient=mood_only)
    med_only = PatientFactory(timezone="UTC")
    MedicationFactory(patient=med_only)
    PatientFactory(timezone="UTC")  # inactive
    elsewhere = PatientFactory(timezone="Asia/Kathmandu")  # UTC+5:45: a different local hour
    SymptomFactory(patient=elsewhere)

    due = set(selectors.patients_due_for_precompute(now))

    assert due == {active_utc, mood_only, med_only}
    later = now + datetime.timedelta(days=2)
    assert set(selectors.patients_due_for_precompute(later)) == set()  # nobody active in the last day


def test_precompute_fans_out_bounded_batches(settings, monkeypatch):
    settings.INSIGHTS_PRECOMPUTE_HOUR = timezone.now().astimezone(datetime.UTC).hour
    monkeypatch.setattr(services, "PRECOMPUTE_BATCH_SIZE", 2)
    patients = [PatientFactory(timezone="UTC") for _ in range(5)]
    for p in patients:
        SymptomFactory(patient=p)
    sent = []
    monkeypatch.setattr(tasks.precompute_insights_batch, "delay", sent.append)

    assert tasks.precompute_insights() == 3

    assert sent == [[patients[0].pk, patients[1].pk], [patients[2].pk, patients[3].pk], [patients[4].pk]]


def test_precompute_batch_without_key_is_idempotent(patient, django_assert_max_num_queries):
    SymptomFactory(patient=patient)
    assert tasks.precompute_insights_batch([patient.pk]) == 1
    cached = services.cached_insight(patient=patient, days=7)
    assert cached["source"] == "local"
    with django_assert_max_num_queries(1):  # only the patient lookup: the answer is cached
        assert services.precompute_insight(patient=patient, days=7) == "cached"
    assert services.cached_insight(patient=patient, days=7) == cached


def test_precompute_with_key_enqueues_gemini_once(patient, fake_gemini, monkeypatch):
    SymptomFactory(patient=patient)
    enqueued = []
    monkeypatch.setattr(tasks.generate_gemini_insight, "delay", lambda *args: enqueued.append(args))

    assert services.precompute_insight(patient=patient, days=7) == "enqueued"
    assert services.precompute_insight(patient=patient, days=7) == "local"  # already claimed

    assert len(enqueued) == 1
    assert services.cached_insight(patient=patient, days=7)["source"] == "local"  # served meanwhile
    assert tasks.generate_gemini_insight(*enqueued[0]) == "stored"
    assert services.precompute_insight(patient=patient, days=7) == "cached"


# --- Versioning and signals --------------------------------------------------------------------------


def test_cache_key_changes_with_window_day_and_data():
    key = insight_cache.result_key(1, 7, datetime.date(2026, 1, 2), "v1")
    assert key != insight_cache.result_key(1, 30, datetime.date(2026, 1, 2), "v1")
    assert key != insight_cache.result_key(1, 7, datetime.date(2026, 1, 3), "v1")
    assert key != insight_cache.result_key(1, 7, datetime.date(2026, 1, 2), "v2")
    assert key != insight_cache.result_key(2, 7, datetime.date(2026, 1, 2), "v1")


def test_data_version_is_stable_until_bumped():
    first = data_version(42)
    assert data_version(42) == first
    bump_versions([42])
    assert data_version(42) != first
    assert data_version(43) != data_version(42)


@pytest.mark.parametrize(
    "change",
    [
        "symptom_create",
        "symptom_edit",
        "symptom_delete",
        "symptom_link",
        "symptom_unlink",
        "medication_create",
        "medication_edit",
        "medication_delete",
        "mood_create",
    ],
)
def test_every_data_change_bumps_the_version(patient, change, django_capture_on_commit_callbacks):
    symptom = SymptomFactory(patient=patient)
    med = MedicationFactory(patient=patient)
    symptom.related_medications.add(med)
    before = data_version(patient.pk)
    other_before = data_version(patient.pk + 1000)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if change == "symptom_create":
            SymptomFactory(patient=patient)
        elif change == "symptom_edit":
            symptom.severity = 2
            symptom.save()
        elif change == "symptom_delete":
            symptom.delete()
        elif change == "symptom_link":
            MedicationFactory(patient=patient).symptoms.add(symptom)
        elif change == "symptom_unlink":
            symptom.related_medications.remove(med)
        elif change == "medication_create":
            MedicationFactory(patient=patient)
        elif change == "medication_edit":
            med.dosage = "20 mg"
            med.save()
        elif change == "medication_delete":
            med.delete()
        elif change == "mood_create":
            MoodFactory(patient=patient)

    assert data_version(patient.pk) != before
    assert callbacks  # bumped again after commit
    assert data_version(patient.pk + 1000) == other_before
