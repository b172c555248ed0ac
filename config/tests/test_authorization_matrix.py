"""The authorization matrix: every API route × method × kind of caller, on real objects.

Every route of the URLconf under /api/ must have a row here: a new route without one fails
``test_every_api_route_has_a_row``. Each row names a policy, which says what each caller gets.
Owner data carries a sentinel string; no response to anyone but the owner and their doctor
(success or error) may contain it, so leaks through nested fields, filters, search or error
messages are caught too.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import Caregiver
from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from medications.models import Reminder, ReminderStatus
from medications.tests.factories import MedicationFactory
from notifications.models import PushSubscription
from symptoms.tests.factories import MoodFactory, SymptomFactory

SECRET = "Zq-owner-secret-7781"
ACTORS = ("anonymous", "owner", "other_patient", "assigned_doctor", "unassigned_doctor", "unverified_doctor")
OK = "ok"  # reads: 200; writes: 2xx, or 400 for the empty body the matrix sends
ANY = "any"  # public: whatever the input deserves, never 401/403/404/5xx

# Policies: what each caller gets.
PUBLIC = dict.fromkeys(ACTORS, ANY)
AUTHENTICATED = {"anonymous": 401, **dict.fromkeys(ACTORS[1:], OK)}
PATIENTS_ONLY = {
    "anonymous": 401,
    "owner": OK,
    "other_patient": OK,
    "assigned_doctor": 403,
    "unassigned_doctor": 403,
    "unverified_doctor": 403,
}
VERIFIED_DOCTORS_ONLY = {
    "anonymous": 401,
    "owner": 403,
    "other_patient": 403,
    "assigned_doctor": OK,
    "unassigned_doctor": OK,
    "unverified_doctor": 403,
}
HEALTH_LIST = {**PATIENTS_ONLY, "assigned_doctor": OK, "unassigned_doctor": OK}  # rows scoped per caller
HEALTH_CREATE = PATIENTS_ONLY
HEALTH_OBJECT_READ = {
    "anonymous": 401,
    "owner": OK,
    "other_patient": 404,
    "assigned_doctor": OK,
    "unassigned_doctor": 404,
    "unverified_doctor": 403,
}
HEALTH_OBJECT_WRITE = {**HEALTH_OBJECT_READ, "assigned_doctor": 403, "unassigned_doctor": 403}
SUBJECT_READ = HEALTH_OBJECT_READ  # per-patient views, called with ?patient=<owner id>
OVERVIEW = {**HEALTH_OBJECT_READ, "owner": 403, "other_patient": 403}
BAD_TOKEN = dict.fromkeys(ACTORS, 404)
# A patient's own non-health rows (caregivers): another patient's is a 404, doctors are refused.
PATIENT_OBJECT = {**PATIENTS_ONLY, "other_patient": 404}

# route (as enumerated) -> method -> (policy, query string appended for the call)
MATRIX: dict[str, dict[str, tuple[dict, str]]] = {
    "/api/": {"get": (PUBLIC, "")},  # a redirect to the docs
    "/api/health/": {"get": (PUBLIC, "")},
    "/api/meta/": {"get": (PUBLIC, "")},
    "/api/schema/": {"get": (PUBLIC, "")},
    "/api/docs/": {"get": (PUBLIC, "")},
    "/api/redoc/": {"get": (PUBLIC, "")},
    "/api/auth/register/": {"post": (PUBLIC, "")},
    "/api/auth/login/": {"post": (PUBLIC, "")},
    "/api/auth/token/refresh/": {"post": (PUBLIC, "")},
    "/api/auth/logout/": {"post": (AUTHENTICATED, "")},
    "/api/auth/profile/": {
        "get": (AUTHENTICATED, ""),
        "put": (AUTHENTICATED, ""),
        "patch": (AUTHENTICATED, ""),
        "delete": (AUTHENTICATED, ""),  # without the password: a 400, nothing deleted
    },
    "/api/auth/patients/": {"get": (VERIFIED_DOCTORS_ONLY, "")},
    "/api/auth/patients/{pk}/": {"get": (OVERVIEW, "")},
    "/api/auth/doctors/": {"get": (PATIENTS_ONLY, "")},
    "/api/auth/access-log/": {"get": (PATIENTS_ONLY, "")},
    "/api/auth/export/": {"get": (SUBJECT_READ, "?format=fhir&patient={owner}")},
    "/api/auth/assign-doctor/": {"put": (PATIENTS_ONLY, ""), "patch": (PATIENTS_ONLY, "")},
    "/api/auth/caregivers/": {"get": (PATIENTS_ONLY, ""), "post": (PATIENTS_ONLY, "")},
    "/api/auth/caregivers/{pk}/": {"delete": (PATIENT_OBJECT, "")},
    # Emailed links: the signed token is the credential (a bad one is a 400 page for anyone).
    "/api/auth/caregivers/accept/{token}/": {"get": (PUBLIC, ""), "post": (PUBLIC, "")},
    "/api/auth/caregivers/unsubscribe/{token}/": {"get": (PUBLIC, ""), "post": (PUBLIC, "")},
    "/api/auth/missed-dose-alerts/unsubscribe/{token}/": {"get": (PUBLIC, ""), "post": (PUBLIC, "")},
    "/api/symptoms/": {"get": (HEALTH_LIST, ""), "post": (HEALTH_CREATE, "")},
    "/api/symptoms/{pk}/": {
        "get": (HEALTH_OBJECT_READ, ""),
        "put": (HEALTH_OBJECT_WRITE, ""),
        "patch": (HEALTH_OBJECT_WRITE, ""),
        "delete": (HEALTH_OBJECT_WRITE, ""),
    },
    "/api/symptoms/last_seven_days/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/symptoms/summary/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/symptoms/by_medication/": {"get": (SUBJECT_READ, "?patient={owner}&medication_id={medication}")},
    "/api/moods/": {"get": (HEALTH_LIST, ""), "post": (HEALTH_CREATE, "")},
    "/api/moods/{pk}/": {
        "get": (HEALTH_OBJECT_READ, ""),
        "put": (HEALTH_OBJECT_WRITE, ""),
        "patch": (HEALTH_OBJECT_WRITE, ""),
        "delete": (HEALTH_OBJECT_WRITE, ""),
    },
    "/api/moods/trends/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/dashboard/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/symptoms/ai_insights/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/reports/export/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/medications/": {"get": (HEALTH_LIST, ""), "post": (HEALTH_CREATE, "")},
    "/api/medications/{pk}/": {
        "get": (HEALTH_OBJECT_READ, ""),
        "put": (HEALTH_OBJECT_WRITE, ""),
        "patch": (HEALTH_OBJECT_WRITE, ""),
        "delete": (HEALTH_OBJECT_WRITE, ""),
    },
    "/api/medications/{pk}/doses/": {"post": (HEALTH_OBJECT_WRITE, "")},
    "/api/medications/{pk}/refill/": {"post": (HEALTH_OBJECT_WRITE, "")},
    "/api/medications/{pk}/schedule/": {"get": (HEALTH_OBJECT_READ, "?days=3")},
    "/api/medications/calendar/": {"get": (PATIENTS_ONLY, ""), "post": (PATIENTS_ONLY, "")},
    # The calendar feed: the URL token is the credential; "{token}" opens nothing, for anyone
    # (a valid token: medications/tests/test_api_schedule_calendar.py).
    "/api/calendar/{token}.ics": {"get": (BAD_TOKEN, "")},
    "/api/medications/current/": {"get": (HEALTH_LIST, "")},
    "/api/medications/upcoming/": {"get": (HEALTH_LIST, "")},
    "/api/medications/adherence/": {"get": (SUBJECT_READ, "?patient={owner}")},
    "/api/medications/reminders/": {"get": (HEALTH_LIST, "")},
    "/api/medications/reminders/{pk}/taken/": {"post": (HEALTH_OBJECT_WRITE, "")},
    "/api/medications/reminders/{pk}/skipped/": {"post": (HEALTH_OBJECT_WRITE, "")},
    "/api/medications/reminders/{pk}/snooze/": {"post": (HEALTH_OBJECT_WRITE, "")},
    # The emailed link: the signed token is the credential (a bad one is a 400 page for anyone).
    "/api/medications/reminders/confirm/{token}/": {"get": (PUBLIC, ""), "post": (PUBLIC, "")},
    "/api/notifications/push-subscriptions/": {"get": (PATIENTS_ONLY, ""), "post": (PATIENTS_ONLY, "")},
    "/api/notifications/push-subscriptions/{pk}/": {"delete": (PATIENT_OBJECT, "")},
    "/api/notifications/vapid-public-key/": {"get": (PUBLIC, "")},
    # The demo page and its static script, style and service worker.
    "/api/notifications/demo/": {"get": (PUBLIC, "")},
    "/api/notifications/demo/demo.js": {"get": (PUBLIC, "")},
    "/api/notifications/demo/demo.css": {"get": (PUBLIC, "")},
    "/api/notifications/demo/sw.js": {"get": (PUBLIC, "")},
    "/api/medications/reminders/snooze/{token}/": {"get": (PUBLIC, ""), "post": (PUBLIC, "")},
}

# Which of the owner's objects a {pk} in a route stands for.
OBJECT_FOR_PREFIX = {
    "/api/auth/patients/": "owner",
    "/api/auth/caregivers/": "caregiver",
    "/api/symptoms/": "symptom",
    "/api/moods/": "mood",
    "/api/medications/": "medication",
    "/api/medications/reminders/": "reminder",
    "/api/notifications/push-subscriptions/": "push_subscription",
}

_METHODS = ("get", "post", "put", "patch", "delete")


def _normalise(route: str) -> str:
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return "/" + route


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_routes() -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for raw, callback in _walk(get_resolver().url_patterns):
        route = _normalise(raw)
        if not route.startswith("/api/") or "{format}" in route:
            continue
        actions = getattr(callback, "actions", None)
        if actions:
            methods = set(actions) & set(_METHODS)
        else:
            view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            methods = {m for m in _METHODS if hasattr(view_class, m)}
        routes.setdefault(route, set()).update(methods)
    return routes


def test_every_api_route_has_a_row():
    enumerated = {(route, method) for route, methods in api_routes().items() for method in methods}
    in_matrix = {(route, method) for route, methods in MATRIX.items() for method in methods}
    assert enumerated - in_matrix == set(), "routes without a row in the authorization matrix"
    assert in_matrix - enumerated == set(), "rows for routes that no longer exist"


@pytest.fixture
def world(db):
    unverified = DoctorFactory(is_verified_doctor=False)
    assigned = DoctorFactory()
    owner = PatientFactory(assigned_doctor=assigned, first_name=SECRET)
    other = PatientFactory(assigned_doctor=unverified)  # a doctor whose verification was revoked
    medication = MedicationFactory(patient=owner, name=f"{SECRET} pill", notes=SECRET)
    symptom = SymptomFactory(patient=owner, name=f"{SECRET} ache", notes=SECRET, related_medications=[medication])
    mood = MoodFactory(patient=owner, notes=SECRET, date=owner.local_today() - datetime.timedelta(days=1))
    reminder = Reminder.objects.create(
        medication=medication,
        patient=owner,
        scheduled_for=timezone.now() - datetime.timedelta(hours=1),
        status=ReminderStatus.SENT,
    )
    caregiver = Caregiver.objects.create(patient=owner, email="carer@example.test", name=SECRET)
    # The other patient has rows too, so their lists are not trivially empty.
    other_med = MedicationFactory(patient=other)
    SymptomFactory(patient=other, related_medications=[other_med])
    MoodFactory(patient=other)
    return {
        "actors": {
            "anonymous": None,
            "owner": owner,
            "other_patient": other,
            "assigned_doctor": assigned,
            "unassigned_doctor": DoctorFactory(),
            "unverified_doctor": unverified,
        },
        "objects": {
            "owner": owner.pk,
            "symptom": symptom.pk,
            "mood": mood.pk,
            "medication": medication.pk,
            "reminder": reminder.pk,
            "caregiver": caregiver.pk,
            "push_subscription": PushSubscription.objects.create(
                user=owner, endpoint=f"https://push.example.test/{SECRET}", p256dh="p", auth="a"
            ).pk,
        },
    }


def _cases():
    for route, methods in sorted(MATRIX.items()):
        for method, (policy, query) in sorted(methods.items()):
            for actor in ACTORS:
                yield pytest.param(route, method, policy[actor], query, actor, id=f"{method.upper()} {route} {actor}")


@pytest.mark.parametrize(("route", "method", "expected", "query", "actor"), list(_cases()))
def test_matrix(world, route, method, expected, query, actor):
    objects = world["objects"]
    path = route
    if "{pk}" in route:
        prefix = route.split("{pk}")[0]
        path = route.replace("{pk}", str(objects[OBJECT_FOR_PREFIX[prefix]]))
    path += query.format(**objects)
    user = world["actors"][actor]
    client = client_for(user)
    response = getattr(client, method)(path, {}, format="json") if method != "get" else client.get(path)
    status = response.status_code
    assert status < 500, (status, response.content[:300])
    if expected == ANY:
        assert status not in (401, 403, 404), status
    elif expected == OK:
        allowed = {200} if method == "get" else {200, 201, 204, 205, 400}
        assert status in allowed, (status, response.content[:300])
    else:
        assert status == expected, (status, response.content[:300])
    if actor not in ("owner", "assigned_doctor") and route not in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        assert SECRET.encode() not in response.content, "owner data leaked"
