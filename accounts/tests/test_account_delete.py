"""DELETE /api/auth/profile/: the account and every row of it go, in one transaction."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import readcache
from accounts.models import AccountDeletion, Caregiver, DataAccessLog, User
from accounts.readcache import data_version
from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from medications.models import Medication, Reminder
from medications.services import calendar_feed_issue
from medications.tests.factories import MedicationFactory, ReminderFactory
from summaries.models import DigestDelivery
from symptoms.insights import cache as insight_cache
from symptoms.models import Symptom
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"  # the factories' password
DELETED = "deleted with the account"
DETACHED = "kept, the foreign key set to null"

# Every foreign key to the user, and what deleting the account does to its rows. A new model with
# a foreign key to the user fails test_every_user_foreign_key_is_covered until it is listed here
# (and test_every_row_of_the_account_is_gone seeds a row of it).
COVERED: dict[tuple[str, str], str] = {
    ("accounts.User", "assigned_doctor"): DETACHED,  # a doctor's patients are unassigned
    ("accounts.User_groups", "user"): DELETED,
    ("accounts.User_user_permissions", "user"): DELETED,
    ("accounts.DataAccessLog", "patient"): DELETED,  # the access log about a patient
    ("accounts.Caregiver", "patient"): DELETED,
    # A patient's audit trail keeps the name the doctor had when they read the data.
    ("accounts.DataAccessLog", "doctor"): DETACHED,
    ("medications.Medication", "patient"): DELETED,
    ("medications.Reminder", "patient"): DELETED,
    ("medications.CalendarFeed", "patient"): DELETED,  # the calendar URL stops working
    ("symptoms.Symptom", "patient"): DELETED,
    ("symptoms.Mood", "patient"): DELETED,
    ("summaries.DigestDelivery", "patient"): DELETED,
    ("admin.LogEntry", "user"): DELETED,
    ("notifications.LiveEvent", "user"): DELETED,  # events on their way to the ws process
    ("notifications.PushSubscription", "user"): DELETED,  # with its deliveries
    # Refresh tokens: every one is blacklisted first; the blacklist outlives the account.
    ("token_blacklist.OutstandingToken", "user"): DETACHED,
}


def user_foreign_keys() -> set[tuple[str, str]]:
    found = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if field.concrete and (field.many_to_one or field.one_to_one) and field.related_model is User:
                found.add((model._meta.label, field.name))
    return found


def test_every_user_foreign_key_is_covered():
    found = user_foreign_keys()
    assert found - COVERED.keys() == set(), "models with a user foreign key that account deletion does not cover"
    assert COVERED.keys() - found == set(), "listed foreign keys that no longer exist"


def _seed(user: User, *, doctor: User) -> None:
    """One row of everything an account can own (and be named in)."""
    medication = MedicationFactory(patient=user, name="Zq-secret pill")
    ReminderFactory(medication=medication)
    SymptomFactory(patient=user, name="Zq-secret ache", related_medications=[medication])
    MoodFactory(patient=user)
    DigestDelivery.objects.create(patient=user, week_of=datetime.date(2026, 1, 4))
    Caregiver.objects.create(patient=user, email=f"carer-{user.pk}@example.test", name="Zq-secret carer")
    DataAccessLog.objects.create(doctor=doctor, doctor_name="Dr", patient=user, resource="symptoms")
    user.groups.add(Group.objects.create(name=f"group-{user.pk}"))
    calendar_feed_issue(patient=user)
    RefreshToken.for_user(user)
    apps.get_model("notifications", "LiveEvent").objects.create(user=user, type="dose.due", data={"x": 1})
    subscription = apps.get_model("notifications", "PushSubscription").objects.create(
        user=user, endpoint=f"https://push.example.test/{user.pk}", p256dh="p", auth="a"
    )
    apps.get_model("notifications", "PushDelivery").objects.create(
        subscription=subscription, reminder=medication.reminders.first()
    )
    for obj in (user, medication):
        LogEntry.objects.log_actions(
            user_id=doctor.pk, queryset=[obj], action_flag=CHANGE, change_message="edited", single_object=True
        )


def _delete(user: User, password: str = PASSWORD):
    return client_for(user).delete("/api/auth/profile/", {"password": password}, format="json")


def test_every_row_of_the_account_is_gone(django_capture_on_commit_callbacks):
    doctor = DoctorFactory()
    patient = PatientFactory(assigned_doctor=doctor)
    other = PatientFactory(assigned_doctor=doctor)
    _seed(patient, doctor=doctor)
    _seed(other, doctor=doctor)
    LogEntry.objects.log_actions(
        user_id=patient.pk, queryset=[other], action_flag=CHANGE, change_message="x", single_object=True
    )
    before_other = {label: apps.get_model(label).objects.filter(**{field: other}).count() for label, field in COVERED}

    with django_capture_on_commit_callbacks(execute=True):
        assert _delete(patient).status_code == 204

    assert not User.objects.filter(pk=patient.pk).exists()
    for label, field in COVERED:
        model = apps.get_model(label)
        attname = model._meta.get_field(field).attname
        assert not model.objects.filter(**{attname: patient.pk}).exists(), label
    assert not Symptom.related_medications.through.objects.filter(symptom__patient_id=patient.pk).exists()
    assert not LogEntry.objects.filter(object_repr__startswith=patient.username).exists()
    user_type = ContentType.objects.get_for_model(User)
    assert not LogEntry.objects.filter(content_type=user_type, object_id=str(patient.pk)).exists()
    # Nothing of the other patient went with it.
    assert {
        label: apps.get_model(label).objects.filter(**{field: other}).count() for label, field in COVERED
    } == before_other
    assert Medication.objects.filter(patient=other).count() == 1
    assert Reminder.objects.filter(patient=other).count() == 1


def test_the_admin_history_of_owned_rows_goes_too(django_capture_on_commit_callbacks):
    doctor = DoctorFactory()
    patient = PatientFactory()
    _seed(patient, doctor=doctor)
    medication_type = ContentType.objects.get_for_model(Medication)
    assert LogEntry.objects.filter(content_type=medication_type).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert _delete(patient).status_code == 204
    assert not LogEntry.objects.filter(content_type=medication_type).exists()


def test_the_deletion_record_holds_no_personal_data():
    patient = PatientFactory(first_name="Zq-first", email="zq@example.test")
    assert _delete(patient).status_code == 204
    record = AccountDeletion.objects.get()
    assert {f.name for f in AccountDeletion._meta.get_fields()} == {"id", "user_id", "role", "deleted_at"}
    assert (record.user_id, record.role) == (patient.pk, "patient")
    assert abs(record.deleted_at - timezone.now()) < datetime.timedelta(minutes=1)


@pytest.mark.parametrize("body", [{"password": "wrong-password"}, {"password": ""}, {}])
def test_a_wrong_or_missing_password_deletes_nothing(body):
    patient = PatientFactory()
    _seed(patient, doctor=DoctorFactory())
    response = client_for(patient).delete("/api/auth/profile/", body, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert User.objects.filter(pk=patient.pk).exists()
    assert Symptom.objects.filter(patient=patient).count() == 1
    assert not AccountDeletion.objects.exists()


def test_anonymous_is_refused():
    assert APIClient().delete("/api/auth/profile/", {"password": PASSWORD}, format="json").status_code == 401


def test_a_doctors_deletion_unassigns_their_patients(settings, django_capture_on_commit_callbacks):
    doctor = DoctorFactory(first_name="Ann", last_name="Lee")
    patient = PatientFactory(assigned_doctor=doctor)
    patient_client = client_for(patient)
    assert patient_client.get("/api/auth/profile/").json()["assigned_doctor_name"] == "Ann Lee"
    with django_capture_on_commit_callbacks(execute=True):
        assert _delete(doctor).status_code == 204
    patient.refresh_from_db()
    assert patient.assigned_doctor is None
    body = patient_client.get("/api/auth/profile/").json()
    assert (body["assigned_doctor"], body["assigned_doctor_name"]) == (None, None)
    assert AccountDeletion.objects.get().role == "doctor"


def test_tokens_stop_working_at_once(settings, django_capture_on_commit_callbacks):
    patient = PatientFactory()
    refresh_tokens = [RefreshToken.for_user(patient) for _ in range(2)]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh_tokens[0].access_token}")
    assert client.get("/api/auth/profile/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete("/api/auth/profile/", {"password": PASSWORD}, format="json").status_code == 204
    assert client.get("/api/auth/profile/").status_code == 401
    assert client.get("/api/symptoms/").status_code == 401
    for token in refresh_tokens:
        response = APIClient().post("/api/auth/token/refresh/", {"refresh": str(token)}, format="json")
        assert response.status_code == 401
    assert OutstandingToken.objects.filter(user__isnull=True, blacklistedtoken__isnull=False).count() == 2


def test_cached_reads_and_insights_are_dropped(settings, django_capture_on_commit_callbacks):
    """With stores that can list their keys (Redis, memory), nothing about the account stays."""
    settings.CACHES = {
        **settings.CACHES,
        readcache.STORE_ALIAS: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "delete-test"},
    }
    settings.READ_CACHE_SECONDS = 300
    patient, other = PatientFactory(), PatientFactory()
    for user in (patient, other):
        SymptomFactory(patient=user)
        client = client_for(user)
        assert client.get("/api/symptoms/").status_code == 200  # a cached read
        assert client.get("/api/symptoms/ai_insights/?days=7").status_code == 200  # a cached insight
    store = caches[readcache.STORE_ALIAS]
    assert store.get(insight_cache.latest_key(patient.pk)) is not None

    def keys_of(user_id: int) -> list[str]:
        names = [k.split(":", 2)[2] for k in store._cache]  # without the ":<version>:" prefix
        return [n for n in names if n.split(":")[1] == str(user_id)]

    assert {name.split(":")[0] for name in keys_of(patient.pk)} >= {"read", "result", "latest", "version"}
    version_before = data_version(other.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert _delete(patient).status_code == 204
    assert keys_of(patient.pk) == []
    assert store.get(insight_cache.latest_key(other.pk)) is not None
    assert data_version(other.pk) == version_before


def test_deleting_many_rows_writes_no_cache_entry_per_row(django_capture_on_commit_callbacks):
    """Each deleted row would replace the data version (a cache write, and one more after the
    commit); the deletion drops the version once instead, so a 5-year account deletes quickly."""
    patient, other = PatientFactory(), PatientFactory()
    medication = MedicationFactory(patient=patient)
    for day in range(10):
        ReminderFactory(medication=medication, scheduled_for=timezone.now() - datetime.timedelta(days=day))
        SymptomFactory(patient=patient, related_medications=[medication])
    with mock.patch.object(readcache, "bump_versions", wraps=readcache.bump_versions) as bumps:
        with django_capture_on_commit_callbacks(execute=True):
            assert _delete(patient).status_code == 204
        assert bumps.call_count == 0
        SymptomFactory(patient=other)  # anyone else's writes still replace their version
        assert bumps.call_count == 1
