"""No health data, personal data or credential ever reaches a log record.

A full flow runs in this process (register, login, refresh, profile, a doctor's reads, a
medication, symptoms, a mood, the reminder sweep emailing a dose, the confirmation link, AI
insights, the PDF report, logout, and the error paths a real client hits) while EVERY logger
records at DEBUG level. Then each distinctive value, every JWT, the confirmation token, the
email address and the password are looked for in every record: message, arguments, exception
and stack text.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import DoctorFactory
from conftest import client_for
from core.logsafe import redact
from medications.models import Medication, Reminder, ReminderStatus
from medications.services.sweep import sweep

EMAIL = "Leaky.Patient.8812@example.test"
PASSWORD = "Sup3r-secret-Pass-6612"
SECRETS_IN_DATA = {
    "first name": "Quintessa",
    "last name": "Vantablack",
    "phone": "+1 555 0199 7731",
    "birth date": "1961-07-23",
    "medication name": "Zorvastatin-Q7",
    "dosage": "37.25 mg",
    "symptom name": "Glimmerheadache",
    "symptom notes": "worse after the xylophone rehearsal 4471",
    "mood notes": "quokka-level gloom 9921",
}
NAMED_LOGGERS = ("django", "django.request", "django.server", "django.security", "celery", "kombu", "py.warnings")
APP_LOGGERS = ("core", "accounts", "medications", "symptoms", "config")


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs(caplog):
    """Every record of every logger at DEBUG: caplog on the root (propagation) plus a handler
    on each named logger, in case one of them does not propagate."""
    recorder = Recorder()
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in NAMED_LOGGERS + APP_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(recorder)
    yield lambda: [*caplog.records, *recorder.records]
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(recorder)
        logger.setLevel(level)


def record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    with contextlib.suppress(TypeError, ValueError):
        parts.append(record.getMessage())
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.extend(str(value) for value in (record.exc_text, record.stack_info) if value)
    return "\n".join(parts)


def full_flow(settings) -> dict[str, str]:
    """Drive the API as a patient and their doctor would; return every credential issued."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_URL = "https://meditrack.example.com"
    mail.outbox = []
    secrets: dict[str, str] = {"email": EMAIL, "password": PASSWORD}
    anon = APIClient()
    profile = {
        "username": "leaky-patient",
        "email": EMAIL,
        "password": PASSWORD,
        "first_name": SECRETS_IN_DATA["first name"],
        "last_name": SECRETS_IN_DATA["last name"],
        "phone": SECRETS_IN_DATA["phone"],
        "date_of_birth": SECRETS_IN_DATA["birth date"],
        "timezone": "UTC",
    }
    assert anon.post("/api/auth/register/", profile, format="json").status_code == 201
    # A second registration with the same email, and a login with a mistyped password: 400, 401.
    assert anon.post("/api/auth/register/", {**profile, "username": "other"}, format="json").status_code == 400
    wrong = {"username": EMAIL, "password": PASSWORD + "-typo"}
    assert anon.post("/api/auth/login/", wrong, format="json").status_code == 401
    login = anon.post("/api/auth/login/", {"username": EMAIL, "password": PASSWORD}, format="json")
    assert login.status_code == 200
    secrets["access 1"], secrets["refresh 1"] = login.json()["access"], login.json()["refresh"]
    refreshed = anon.post("/api/auth/token/refresh/", {"refresh": secrets["refresh 1"]}, format="json")
    assert refreshed.status_code == 200
    secrets["access 2"], secrets["refresh 2"] = refreshed.json()["access"], refreshed.json()["refresh"]
    # The used refresh token again (rotation blacklisted it): 401.
    assert anon.post("/api/auth/token/refresh/", {"refresh": secrets["refresh 1"]}, format="json").status_code == 401
    bad_header = APIClient()
    bad_header.credentials(HTTP_AUTHORIZATION=f"Bearer {secrets['access 1']}x")
    assert bad_header.get("/api/auth/profile/").status_code == 401

    patient_api = APIClient()
    patient_api.credentials(HTTP_AUTHORIZATION=f"Bearer {secrets['access 2']}")
    assert patient_api.get("/api/auth/profile/").status_code == 200
    assert patient_api.patch("/api/auth/profile/", {"phone": "not a phone"}, format="json").status_code == 400
    assert patient_api.patch("/api/auth/profile/", {"email_digest_enabled": True}, format="json").status_code == 200

    doctor = DoctorFactory(is_verified_doctor=True)
    assert patient_api.put("/api/auth/assign-doctor/", {"assigned_doctor": doctor.pk}, format="json").status_code == 200

    now = timezone.now()
    dose = (now - datetime.timedelta(minutes=3)).replace(second=0, microsecond=0)
    medication = {
        "name": SECRETS_IN_DATA["medication name"],
        "dosage": SECRETS_IN_DATA["dosage"],
        "frequency": "custom",
        "custom_schedule": [dose.strftime("%H:%M")],
        "start_date": (dose - datetime.timedelta(days=1)).date().isoformat(),
    }
    created = patient_api.post("/api/medications/", medication, format="json")
    assert created.status_code == 201
    medication_id = created.json()["id"]
    symptom = {
        "name": SECRETS_IN_DATA["symptom name"],
        "severity": 7,
        "notes": SECRETS_IN_DATA["symptom notes"],
        "date": dose.date().isoformat(),
        "related_medications": [medication_id],
    }
    assert patient_api.post("/api/symptoms/", symptom, format="json").status_code == 201
    html = {**symptom, "notes": f"<b>{SECRETS_IN_DATA['symptom notes']}</b>"}
    assert patient_api.post("/api/symptoms/", html, format="json").status_code == 400
    mood = {"mood": 2, "notes": SECRETS_IN_DATA["mood notes"], "date": dose.date().isoformat()}
    assert patient_api.post("/api/moods/", mood, format="json").status_code == 201
    assert patient_api.post("/api/moods/", mood, format="json").status_code == 400  # one per day
    search = f"/api/symptoms/?search={SECRETS_IN_DATA['symptom name']}"
    assert len(patient_api.get(search).json()) == 1
    assert patient_api.get(f"/api/medications/?search={SECRETS_IN_DATA['medication name']}").status_code == 200
    assert patient_api.get("/api/symptoms/?date_after=yesterday").status_code == 400
    assert patient_api.get("/api/symptoms/999999/").status_code == 404

    # The reminder sweep emails the dose (its time, today, has just passed).
    Medication.objects.filter(pk=medication_id).update(next_dose_at=dose)
    assert sweep(now=timezone.now()).sent == 1
    [message] = mail.outbox
    url = re.search(r"https?://\S+/confirm/\S+/", message.body).group(0)
    path = urlsplit(url).path
    secrets["confirm token"] = path.rstrip("/").rsplit("/", 1)[1]
    assert anon.get(path).status_code == 200
    assert anon.put(path).status_code == 405  # a link checker trying other methods
    assert anon.post(path, HTTP_REFERER=url).status_code == 200
    assert Reminder.objects.get().status == ReminderStatus.TAKEN
    assert anon.get(path[:-6] + "AAAAA/").status_code == 400  # a damaged link

    # The calendar feed: its URL token is a credential; a wrong one is a logged 404.
    feed_path = urlsplit(patient_api.get("/api/medications/calendar/").json()["url"]).path
    secrets["calendar token"] = feed_path.rsplit("/", 1)[1].removesuffix(".ics")
    assert anon.get(feed_path).status_code == 200
    assert anon.get(feed_path.replace(".ics", "x.ics")).status_code == 404
    secrets["wrong calendar token"] = secrets["calendar token"] + "x"
    assert patient_api.get(f"/api/medications/{medication_id}/schedule/?days=3").status_code == 200

    assert patient_api.get("/api/dashboard/").status_code == 200
    assert patient_api.get("/api/medications/adherence/").status_code == 200
    assert patient_api.get("/api/symptoms/ai_insights/?days=30").status_code == 200
    assert patient_api.get("/api/reports/export/?days=30").status_code == 200

    doctor_api = client_for(doctor)
    patient_id = patient_api.get("/api/auth/profile/").json()["id"]
    assert doctor_api.get(f"/api/auth/patients/{patient_id}/").status_code == 200
    assert doctor_api.get(f"/api/symptoms/?patient={patient_id}").status_code == 200
    assert doctor_api.get("/api/reports/export/?days=30").status_code == 400  # ?patient= required
    assert doctor_api.post("/api/symptoms/", symptom, format="json").status_code == 403
    assert patient_api.get("/api/auth/access-log/").status_code == 200

    logout = patient_api.post("/api/auth/logout/", {"refresh": secrets["refresh 2"]}, format="json")
    assert logout.status_code == 205
    return secrets


def test_a_full_flow_logs_no_health_data_and_no_credentials(db, settings, all_logs, monkeypatch):
    secrets = full_flow(settings)

    # The database fails on the confirmation link: the 503 is logged, its token is not.
    from medications import views as medication_views

    def database_down(reminder_id):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(medication_views.selectors, "reminder_for_link", database_down)
    path = f"/api/medications/reminders/confirm/{secrets['confirm token']}/"
    assert APIClient().get(path).status_code == 503

    records = all_logs()
    # 4xx answers are the server's access line only (django.request keeps the 5xx: settings.LOGGING).
    assert len(records) > 10, "the flow should have logged (the sweep, emails, the 503)"
    assert any(r.name == "django.request" for r in records)
    text = "\n".join(record_text(record) for record in records)
    assert "[redacted]" in text  # the confirmation link's path was logged, masked
    leaks = {
        label: value
        for label, value in {**SECRETS_IN_DATA, **secrets}.items()
        if value.lower() in text.lower()
        or (label in {"email", "phone"} and re.sub(r"\W", "", value).lower() in re.sub(r"\W", "", text).lower())
    }
    assert leaks == {}, f"logged: {sorted(leaks)}"


def test_redact_masks_signed_tokens_only():
    token = "eyJyIjoxfQ:1u0Xyz:4mPm2lE3Lr3sQ5p8oM7Jw1kB0nVt6yXcZaQe9fHgRsU"
    assert redact(f"Bad Request: /api/medications/reminders/confirm/{token}/") == (
        "Bad Request: /api/medications/reminders/confirm/[redacted]/"
    )
    assert redact("Not Found: /api/symptoms/12/") == "Not Found: /api/symptoms/12/"
    assert redact("Not Found: /api/calendar/Zx9-_aB.ics") == "Not Found: /api/calendar/[redacted]"
    assert redact("GET /api/calendar/Zx9-_aB.ics/ HTTP/1.1") == "GET /api/calendar/[redacted]/ HTTP/1.1"
    assert redact("reminder sweep at 2026-03-08T07:05:00+00:00: {'sent': 1}") == (
        "reminder sweep at 2026-03-08T07:05:00+00:00: {'sent': 1}"
    )


def test_gunicorn_access_log_has_no_token_query_string_or_headers():
    from gunicorn.config import Config

    from config.gunicorn_logger import RedactingLogger

    token = "eyJyIjoxfQ:1u0Xyz:4mPm2lE3Lr3sQ5p8oM7Jw1kB0nVt6yXcZaQe9fHgRsU"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/api/medications/reminders/confirm/{token}/?search=Glimmerheadache",
        "PATH_INFO": f"/api/medications/reminders/confirm/{token}/",
        "QUERY_STRING": "search=Glimmerheadache",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://meditrack.example.com/api/medications/reminders/confirm/{token}/?x=1",
        "HTTP_USER_AGENT": "test",
    }

    class Response:
        status = "200 OK"
        sent = 10
        headers = [("Content-Type", "text/html")]

    class Request:
        headers = [("AUTHORIZATION", "Bearer secret.jwt.value")]

    logger = RedactingLogger(Config())
    atoms = logger.atoms(Response(), Request(), environ, datetime.timedelta(seconds=0, microseconds=1500))
    line = Config().access_log_format % atoms
    assert "[redacted]" in line and "POST" in line and "203.0.113.9" in line
    for secret in (token, "Glimmerheadache", "secret.jwt.value"):
        assert secret not in line
        assert all(secret not in str(value) for value in atoms.values())


def test_gunicorn_access_log_has_no_calendar_token():
    from gunicorn.config import Config

    from config.gunicorn_logger import RedactingLogger

    token = "qW3rTy-calendar_Token0123456789abcdefghijk"
    path = f"/api/calendar/{token}.ics"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "HTTP_REFERER": f"webcal://h{path}",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9", "QUERY_STRING": ""}  # fmt: skip

    class Response:
        status = "200 OK"
        sent = 10
        headers = []

    class Request:
        headers = []

    atoms = RedactingLogger(Config()).atoms(Response(), Request(), environ, datetime.timedelta(microseconds=1500))
    assert atoms["r"] == "GET /api/calendar/[redacted] HTTP/1.1" and atoms["f"] == "webcal://h/api/calendar/[redacted]"
    assert all(token not in str(value) for value in atoms.values())
