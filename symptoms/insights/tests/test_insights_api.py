"""GET /api/symptoms/ai_insights/: contract, access, caching, Gemini and its failures."""

from __future__ import annotations

import contextlib
import datetime
import time

import pytest
from kombu.exceptions import OperationalError

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from symptoms.insights import gemini, services, tasks
from symptoms.insights.tests.factories import MedicationFactory, MoodFactory, SymptomFactory
from symptoms.insights.tests.fake_gemini import OK_ANSWER

URL = "/api/symptoms/ai_insights/"
FIELDS = {
    "insight",
    "patterns",
    "medication_correlations",
    "recommendations",
    "analyzed_period",
    "symptom_count",
    "source",
    "cached",
    "generated_at",
    "disclaimer",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def inline_worker(monkeypatch):
    """A Celery worker that picks the task up at once (runs it in this thread)."""
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        with contextlib.suppress(gemini.GeminiUnavailable):  # a real worker would retry later
            tasks.generate_gemini_insight(*args)

    monkeypatch.setattr(tasks.generate_gemini_insight, "apply_async", run)
    return calls


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker")

    monkeypatch.setattr(tasks.generate_gemini_insight, "apply_async", refuse)


def _log(patient, n_days_ago=0, **kwargs):
    return SymptomFactory(patient=patient, date=patient.local_today() - datetime.timedelta(days=n_days_ago), **kwargs)


# --- Without a key: the built-in analysis --------------------------------------------------------


def test_without_key_answers_local_analysis_then_caches_it(patient, patient_client, django_assert_num_queries):
    _log(patient, 0, name="Headache", severity=6)
    _log(patient, 1, name="Headache", severity=4)

    first = patient_client.get(URL)

    assert first.status_code == 200
    body = first.json()
    assert set(body) == FIELDS
    assert body["source"] == "local"
    assert body["cached"] is False
    assert body["symptom_count"] == 2
    today = patient.local_today()
    assert body["analyzed_period"] == f"{today - datetime.timedelta(days=6)} to {today}"
    assert "Headache" in body["insight"]
    assert body["recommendations"]
    assert "not a diagnosis" in body["disclaimer"]
    datetime.datetime.fromisoformat(body["generated_at"])

    with django_assert_num_queries(1):  # the JWT user lookup; the answer comes from the cache
        second = patient_client.get(URL)
    assert second.json() == {**body, "cached": True}


def test_fresh_generation_uses_a_fixed_number_of_queries(patient, patient_client, django_assert_num_queries):
    med = MedicationFactory(patient=patient, start_date=patient.local_today() - datetime.timedelta(days=3))
    for i in range(12):
        _log(patient, i % 7, name=f"S{i % 4}", severity=1 + i % 9).related_medications.add(med)
    MoodFactory(patient=patient)
    with django_assert_num_queries(8):  # auth + the analysis' 7 aggregates
        assert patient_client.get(URL, {"days": 30}).status_code == 200


@pytest.mark.parametrize("days", ["0", "91", "-1", "abc", "1.5", str(10**9)])
def test_days_must_be_1_to_90(patient_client, days):
    response = patient_client.get(URL, {"days": days})
    assert response.status_code == 400
    assert "days" in response.json()


@pytest.mark.parametrize("days", [1, 90])
def test_days_bounds_are_accepted(patient, patient_client, days):
    body = patient_client.get(URL, {"days": days}).json()
    today = patient.local_today()
    assert body["analyzed_period"] == f"{today - datetime.timedelta(days=days - 1)} to {today}"


def test_windows_are_cached_separately(patient, patient_client):
    _log(patient, 20)
    assert patient_client.get(URL, {"days": 7}).json()["symptom_count"] == 0
    assert patient_client.get(URL, {"days": 30}).json()["symptom_count"] == 1
    assert patient_client.get(URL, {"days": 7}).json()["cached"] is True


def test_requires_authentication(anon):
    assert anon.get(URL).status_code == 401


def test_works_without_trailing_slash(patient_client):
    assert patient_client.get(URL.rstrip("/")).status_code == 200


# --- Access ------------------------------------------------------------------------------------------


def test_doctor_reads_an_assigned_patient(doctor, doctor_client):
    patient = PatientFactory(assigned_doctor=doctor)
    _log(patient, 0, severity=5)
    response = doctor_client.get(URL, {"patient": patient.pk})
    assert response.status_code == 200
    assert response.json()["symptom_count"] == 1


def test_doctor_cannot_read_an_unassigned_patient(doctor_client):
    other = PatientFactory()
    assert doctor_client.get(URL, {"patient": other.pk}).status_code == 404


def test_doctor_must_name_a_patient(doctor_client):
    assert doctor_client.get(URL).status_code == 400


def test_unverified_doctor_is_forbidden():
    doctor = DoctorFactory(is_verified_doctor=False)
    patient = PatientFactory(assigned_doctor=doctor)
    assert client_for(doctor).get(URL, {"patient": patient.pk}).status_code == 403


def test_patient_cannot_read_another_patient(patient_client):
    assert patient_client.get(URL, {"patient": PatientFactory().pk}).status_code == 404
    assert patient_client.get(URL, {"patient": "x"}).status_code == 400


def test_doctor_and_patient_share_the_patients_cache(doctor, patient):
    patient.assigned_doctor = doctor
    patient.save()
    assert client_for(patient).get(URL).json()["cached"] is False
    assert client_for(doctor).get(URL, {"patient": patient.pk}).json()["cached"] is True


# --- Invalidation ------------------------------------------------------------------------------------


def test_new_edited_deleted_symptoms_and_links_regenerate(patient, patient_client):
    symptom = _log(patient, 0, severity=3)
    assert patient_client.get(URL).json()["symptom_count"] == 1
    assert patient_client.get(URL).json()["cached"] is True

    _log(patient, 1, severity=4)
    body = patient_client.get(URL).json()
    assert (body["cached"], body["symptom_count"]) == (False, 2)

    symptom.severity = 9
    symptom.save()
    body = patient_client.get(URL).json()
    assert body["cached"] is False
    assert any("severe episode" in r for r in body["recommendations"])

    med = MedicationFactory(patient=patient)
    assert patient_client.get(URL).json()["cached"] is False
    assert patient_client.get(URL).json()["cached"] is True
    symptom.related_medications.add(med)
    assert patient_client.get(URL).json()["cached"] is False

    symptom.delete()
    body = patient_client.get(URL).json()
    assert (body["cached"], body["symptom_count"]) == (False, 1)


def test_another_patients_change_keeps_my_cache(patient, patient_client):
    patient_client.get(URL)
    _log(PatientFactory())
    assert patient_client.get(URL).json()["cached"] is True


# --- With Gemini (real SDK, fake server) ---------------------------------------------------------------


def test_gemini_answer_is_returned_cached_and_refreshed_after_new_data(
    patient, patient_client, fake_gemini, inline_worker
):
    MedicationFactory(patient=patient, name="Examplol", start_date=patient.local_today())
    _log(patient, 0, name="Headache", severity=6)

    body = patient_client.get(URL).json()

    assert body["source"] == "gemini"
    assert body["cached"] is False
    assert body["insight"] == OK_ANSWER["summary"]
    assert body["patterns"] == OK_ANSWER["patterns"]
    (corr,) = body["medication_correlations"]
    assert corr["medication"] == "Examplol"
    assert corr["started_on"] == patient.local_today().isoformat()  # exact numbers from the analysis
    assert body["symptom_count"] == 1
    assert set(body) == FIELDS

    again = patient_client.get(URL).json()
    assert again == {**body, "cached": True}
    assert len(fake_gemini.requests) == 1

    _log(patient, 1, name="Nausea", severity=3)
    fresh = patient_client.get(URL).json()
    assert (fresh["source"], fresh["cached"], fresh["symptom_count"]) == ("gemini", False, 2)
    assert len(fake_gemini.requests) == 2
    assert "Nausea" in fake_gemini.requests[1]["contents"][0]["parts"][0]["text"]


def test_gemini_never_receives_identifiers(fake_gemini, inline_worker):
    patient = PatientFactory(
        username="wolfgang_x",
        email="ottoline.brightwater@mailbox.test",
        first_name="Ottoline",
        last_name="Brightwater",
        phone="+1 (555) 010-7788",
        date_of_birth=datetime.date(1975, 11, 3),
    )
    _log(patient, 0, name="Dizziness", severity=5, notes="Ottoline Brightwater, 1975-11-03, +1 (555) 010-7788")
    MoodFactory(patient=patient, notes="wolfgang_x ottoline.brightwater@mailbox.test")

    assert client_for(patient).get(URL).json()["source"] == "gemini"

    sent = fake_gemini.sent_text().lower()
    assert "dizziness" in sent
    for identifier in ["ottoline", "brightwater", "wolfgang_x", "mailbox.test", "010-7788", "5550107788", "1975-11-03"]:
        assert identifier not in sent, identifier


@pytest.fixture
def waits(monkeypatch):
    """Every wait of a request for Gemini: how it ended (the answer, a failure mark or the
    deadline) and how many polls it slept. The mechanism, not the clock."""
    ended = []
    real = services._wait_for_gemini

    def recorded(key, deadline):
        found = real(key, deadline)
        ended.append(
            {
                "found": found is not None,
                "failed": services.insight_cache.has_failed(key),
                "deadline_passed": time.monotonic() >= deadline,
            }
        )
        return found

    monkeypatch.setattr(services, "_wait_for_gemini", recorded)
    return ended


@pytest.mark.parametrize("mode", ["malformed", "wrong_shape", "429", "500"])
def test_gemini_failures_degrade_to_local_quickly(
    patient, patient_client, fake_gemini, inline_worker, mode, settings, monkeypatch
):
    settings.INSIGHTS_WAIT_SECONDS = 20  # the whole budget: waiting it out would be the bug
    fake_gemini.mode = mode
    _log(patient, 0, severity=5)
    sleeps = []
    clock = type("Clock", (), {"monotonic": staticmethod(time.monotonic), "sleep": staticmethod(sleeps.append)})
    monkeypatch.setattr(services, "time", clock)

    response = patient_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["source"], body["cached"], body["symptom_count"]) == ("local", False, 1)
    assert sleeps == []  # the failure mark ended the wait at its first look, no polling the budget
    assert patient_client.get(URL).json()["cached"] is True  # kept briefly, no second call
    assert len(fake_gemini.requests) == 1


def test_slow_gemini_answers_local_within_the_budget_and_the_late_answer_replaces_it(
    patient, patient_client, fake_gemini, broker_down, settings, waits
):
    # The broker is down, so Gemini is called from a thread of this process, with the same budget.
    settings.INSIGHTS_WAIT_SECONDS = 0.5
    settings.GEMINI_TIMEOUT_SECONDS = 60
    fake_gemini.mode = "hold"  # Gemini answers only when the test says so
    _log(patient, 0, severity=5)

    body = patient_client.get(URL).json()

    # Gemini had not answered, so only the request's own deadline can have ended its wait.
    assert waits == [{"found": False, "failed": False, "deadline_passed": True}]
    assert (body["source"], body["cached"]) == ("local", False)
    assert patient_client.get(URL).json()["source"] == "local"
    fake_gemini.release.set()
    for _ in range(600):  # bounded: only a broken build polls this long
        later = patient_client.get(URL).json()
        if later["source"] == "gemini":
            break
        time.sleep(0.1)
    assert (later["source"], later["cached"]) == ("gemini", True)
    assert len(fake_gemini.requests) == 1


def test_gemini_timeout_with_broker_down_is_local(patient, patient_client, fake_gemini, broker_down, settings, waits):
    settings.INSIGHTS_WAIT_SECONDS = 20  # far beyond Gemini's own timeout
    settings.GEMINI_TIMEOUT_SECONDS = 0.5
    fake_gemini.mode = "hold"  # never answers within the test
    _log(patient, 0, severity=5)
    body = patient_client.get(URL).json()
    assert body["source"] == "local"
    # The in-process call timed out and marked the failure, which ended the wait long before
    # its 20 s budget (a very generous margin over the 0.5 s timeout).
    assert waits == [{"found": False, "failed": True, "deadline_passed": False}]


def test_queued_task_without_a_worker_answers_local_then_the_worker_result_is_served(
    patient, patient_client, fake_gemini, settings, monkeypatch
):
    """The task really goes to the broker; no worker runs, so the request waits out its budget."""
    settings.INSIGHTS_WAIT_SECONDS = 0.5
    queued = []
    original = tasks.generate_gemini_insight.apply_async

    def record(args, **kwargs):
        queued.append(args)
        return original(args, **kwargs)

    monkeypatch.setattr(tasks.generate_gemini_insight, "apply_async", record)
    _log(patient, 0, severity=5)

    body = patient_client.get(URL).json()

    assert body["source"] == "local"
    assert fake_gemini.requests == []
    (args,) = queued
    assert tasks.generate_gemini_insight(*args) == "stored"  # what the worker does with the message
    later = patient_client.get(URL).json()
    assert (later["source"], later["cached"]) == ("gemini", True)


def test_fresh_generations_are_rate_limited_per_user(patient, patient_client, fake_gemini, inline_worker, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "insights": "2/h"}
    for n in range(2):
        _log(patient, n)
        assert patient_client.get(URL).json()["source"] == "gemini"
        assert patient_client.get(URL).json()["cached"] is True  # cached answers are free
    _log(patient, 3)

    body = patient_client.get(URL).json()

    assert (body["source"], body["cached"], body["symptom_count"]) == ("local", False, 3)
    assert len(fake_gemini.requests) == 2
    other = PatientFactory()
    _log(other)
    assert client_for(other).get(URL).json()["source"] == "gemini"  # per user


def test_no_data_with_a_key_does_not_call_gemini(patient_client, fake_gemini, inline_worker):
    body = patient_client.get(URL).json()
    assert body["source"] == "local"
    assert fake_gemini.requests == []


def test_latest_insight_for_the_report(patient, patient_client):
    assert services.latest_insight(patient) is None
    _log(patient)
    patient_client.get(URL, {"days": 30})
    latest = services.latest_insight(patient)
    assert latest["analyzed_period"].endswith(patient.local_today().isoformat())
    assert latest["symptom_count"] == 1
