"""core.prepared: a prepared query answers what its queryset answers, in one query, and refuses
shapes whose SQL would not be the same for every call."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Avg, Count, F, Max, Q, Window
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from core.prepared import Aggregation, PreparedQuery
from medications.models import Medication, Reminder
from medications.tests.factories import MedicationFactory, ReminderFactory
from symptoms.models import Mood, Symptom
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)


def _moods(patient_id: int, start: datetime.date, end: datetime.date):
    return (
        Mood.objects.filter(patient_id=patient_id, date__gte=start, date__lte=end)
        .annotate(window_average=Window(Avg("mood")))
        .values_list("date", "mood", "window_average")
        .order_by("date")
    )


def _summary(patient_id: int, since: datetime.date):
    return (
        Symptom.objects.filter(patient_id=patient_id, date__gte=since)
        .values("name")
        .annotate(count=Count("id"), last=Max("date"), average=Avg("severity"))
        .order_by("-count", "name")
    )


def _medication(patient_id: int, pk: int):
    return Medication.objects.filter(patient_id=patient_id, pk=pk).annotate(patient_timezone=F("patient__timezone"))


def _counts(patient_id: int, since: datetime.date):
    return Aggregation(
        Symptom.objects.filter(patient_id=patient_id),
        total=Count("id"),
        recent=Count("id", filter=Q(date__gte=since)),
        average=Avg("severity"),
    )


def _doses(patient_id: int, after: datetime.datetime):
    return Reminder.objects.filter(patient_id=patient_id, scheduled_for__gt=after).values_list("id", flat=True)


MOODS = PreparedQuery(_moods, patient_id=int, start=datetime.date, end=datetime.date)
SUMMARY = PreparedQuery(_summary, patient_id=int, since=datetime.date)
MEDICATION = PreparedQuery(_medication, patient_id=int, pk=int)
COUNTS = PreparedQuery(_counts, patient_id=int, since=datetime.date)
DOSES = PreparedQuery(_doses, patient_id=int, after=datetime.datetime)


@pytest.fixture
def two_patients():
    patient, other = PatientFactory(timezone="Asia/Tokyo"), PatientFactory()
    for offset, (mood, severity, name) in enumerate([(2, 3, "Headache"), (5, 7, "Nausea"), (3, 4, "Headache")]):
        MoodFactory(patient=patient, date=DAY - datetime.timedelta(days=offset), mood=mood)
        SymptomFactory(patient=patient, date=DAY - datetime.timedelta(days=offset), severity=severity, name=name)
    MoodFactory(patient=other, date=DAY, mood=1)
    SymptomFactory(patient=other, date=DAY, severity=9)
    return patient, other


def test_values_list_rows_equal_the_querysets(two_patients, django_assert_num_queries):
    patient, other = two_patients
    for who in (patient, other):
        expected = list(_moods(who.pk, DAY - datetime.timedelta(days=1), DAY))
        with django_assert_num_queries(1):
            assert MOODS(patient_id=who.pk, start=DAY - datetime.timedelta(days=1), end=DAY) == expected
    assert MOODS(patient_id=patient.pk, start=DAY, end=DAY - datetime.timedelta(days=1)) == []


def test_values_dicts_and_their_converters(two_patients):
    patient, _ = two_patients
    since = DAY - datetime.timedelta(days=5)
    rows = SUMMARY(patient_id=patient.pk, since=since)
    assert rows == list(_summary(patient.pk, since))
    assert rows[0] == {"name": "Headache", "count": 2, "last": DAY, "average": 3.5}
    assert isinstance(rows[0]["average"], float)  # Avg's converter ran, as the ORM's does


def test_model_instances_with_annotations(two_patients):
    patient, other = two_patients
    medication = MedicationFactory(patient=patient, name="Metformin")
    (found,) = MEDICATION(patient_id=patient.pk, pk=medication.pk)
    expected = _medication(patient.pk, medication.pk).get()
    assert type(found) is Medication and found.pk == medication.pk and not found._state.adding
    fields = [field.attname for field in Medication._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert found.patient_timezone == "Asia/Tokyo"
    assert MEDICATION(patient_id=other.pk, pk=medication.pk) == []  # another patient's id: nothing


def test_aggregation_equals_aggregate(two_patients, django_assert_num_queries):
    patient, _ = two_patients
    since = DAY - datetime.timedelta(days=1)
    with django_assert_num_queries(1):
        counts = COUNTS(patient_id=patient.pk, since=since)
    assert counts == {"total": 3, "recent": 2, "average": pytest.approx(14 / 3)}
    assert counts == _counts(patient.pk, since).queryset.aggregate(**_counts(patient.pk, since).aggregates)
    assert COUNTS(patient_id=0, since=since) == {"total": 0, "recent": 0, "average": None}


def test_datetimes_are_adapted_as_the_orm_adapts_them(two_patients):
    patient, _ = two_patients
    medication = MedicationFactory(patient=patient)
    now = timezone.now()
    late = ReminderFactory(patient=patient, medication=medication, scheduled_for=now + datetime.timedelta(hours=2))
    ReminderFactory(patient=patient, medication=medication, scheduled_for=now - datetime.timedelta(hours=2))
    tokyo = now.astimezone(datetime.timezone(datetime.timedelta(hours=9)))  # any zone: the same instant
    assert DOSES(patient_id=patient.pk, after=tokyo) == [late.pk] == list(_doses(patient.pk, tokyo))


@pytest.mark.django_db(transaction=True)
def test_each_thread_uses_its_own_connection(two_patients):
    patient, _ = two_patients
    MOODS.compiled()  # compiled on this thread's connection, run on another's
    window = {"start": DAY - datetime.timedelta(days=9), "end": DAY}
    expected = list(_moods(patient.pk, **window))
    results, errors = [], []

    def read():
        try:
            results.append(MOODS(patient_id=patient.pk, **window))
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert errors == [] and results == [expected]


@pytest.mark.parametrize(
    ("build", "placeholders", "message"),
    [
        (lambda ids: Symptom.objects.filter(pk__in=[ids, ids + 1]), {"ids": int}, "no placeholder nor constant"),
        (
            lambda day: Symptom.objects.filter(date=day) if day.year % 2 else Symptom.objects.filter(date__lt=day),
            {"day": datetime.date},
            "depends on its values",
        ),
        (
            lambda patient_id, name: Symptom.objects.filter(patient_id=patient_id),
            {"patient_id": int, "name": str},
            "does not use",
        ),
        (
            lambda patient_id: Symptom.objects.filter(patient_id=patient_id).prefetch_related("related_medications"),
            {"patient_id": int},
            "prefetch",
        ),
        (
            lambda patient_id: Symptom.objects.filter(patient_id=patient_id).count(),
            {"patient_id": int},
            "QuerySet or an Aggregation",
        ),
        (
            lambda patient_id: Symptom.objects.filter(patient_id=patient_id, pk__in=[]),
            {"patient_id": int},
            "empty result",
        ),
        (lambda flag: Symptom.objects.filter(severity=flag), {"flag": bool}, "int, str, date or datetime"),
        (
            lambda patient_id: Aggregation(Symptom.objects.filter(patient_id=patient_id)[:5], n=Count("id")),
            {"patient_id": int},
            "subquery",
        ),
    ],
    ids=["list", "branches", "unused", "prefetch", "not-a-queryset", "empty", "bool", "subquery"],
)
def test_shapes_that_cannot_be_prepared_are_refused(build, placeholders, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        PreparedQuery(build, **placeholders).compiled()


def test_a_value_of_another_type_is_refused(two_patients):
    patient, _ = two_patients
    with pytest.raises(TypeError, match="patient_id must be int, not str"):
        MOODS(patient_id=str(patient.pk), start=DAY, end=DAY)
    with pytest.raises(TypeError, match="start must be date, not datetime"):  # adapted as a date would be
        MOODS(patient_id=patient.pk, start=timezone.now(), end=DAY)


def _with_patient(patient_id: int, pk: int):
    return Medication.objects.filter(patient_id=patient_id, pk=pk).select_related("patient")


def _named(patient_id: int):
    return Mood.objects.filter(patient_id=patient_id).values_list("date", "mood", named=True).order_by("date")


WITH_PATIENT = PreparedQuery(_with_patient, patient_id=int, pk=int)
NAMED = PreparedQuery(_named, patient_id=int)


@pytest.mark.parametrize(
    ("prepared", "kind"),
    [(MOODS, "values_list"), (SUMMARY, "values"), (MEDICATION, "model"), (COUNTS, "aggregate"), (DOSES, "flat")],
)
def test_the_common_shapes_are_read_from_the_fetched_rows_without_djangos_iterable(prepared, kind):
    assert prepared.compiled().reader.kind == kind


def test_shapes_without_a_reading_plan_go_through_djangos_iterable_and_answer_the_same(
    two_patients, django_assert_num_queries
):
    patient, _ = two_patients
    medication = MedicationFactory(patient=patient)
    assert WITH_PATIENT.compiled().reader is None and NAMED.compiled().reader is None
    (found,) = WITH_PATIENT(patient_id=patient.pk, pk=medication.pk)
    with django_assert_num_queries(0):  # the patient came with the row
        assert found.pk == medication.pk and found.patient.timezone == "Asia/Tokyo"
    rows = NAMED(patient_id=patient.pk)
    assert rows == list(_named(patient.pk)) and rows[0]._fields == ("date", "mood")


# --- The driver's cursor, and Django's when something watches the queries --------------------


def _driver_reads(monkeypatch) -> list[str]:
    """The SQL each read sent through the driver's own cursor (core.prepared._driver_fetchall)."""
    from core import prepared

    sent: list[str] = []
    original = prepared._driver_fetchall

    def spy(connection, sql, params):
        sent.append(sql)
        return original(connection, sql, params)

    monkeypatch.setattr(prepared, "_driver_fetchall", spy)
    return sent


def test_a_read_nobody_watches_goes_through_the_drivers_cursor_and_answers_the_same(two_patients, monkeypatch):
    patient, _ = two_patients
    sent = _driver_reads(monkeypatch)
    window = {"start": DAY - datetime.timedelta(days=9), "end": DAY}
    assert MOODS(patient_id=patient.pk, **window) == list(_moods(patient.pk, **window))
    medication = MedicationFactory(patient=patient)
    (found,) = MEDICATION(patient_id=patient.pk, pk=medication.pk)
    assert found.pk == medication.pk
    assert len(sent) == 2


def test_a_watched_read_goes_through_djangos_cursor(two_patients, monkeypatch, django_assert_num_queries):
    patient, _ = two_patients
    sent = _driver_reads(monkeypatch)
    window = {"start": DAY - datetime.timedelta(days=9), "end": DAY}
    with django_assert_num_queries(1) as captured:  # a debug cursor: counted and logged
        MOODS(patient_id=patient.pk, **window)
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        MOODS(patient_id=patient.pk, **window)
    assert sent == [] and len(captured.captured_queries) == 1 and len(seen) == 1


def test_the_drivers_errors_are_raised_as_djangos(two_patients):
    from django.db import DatabaseError, transaction

    from core.prepared import _driver_fetchall

    with pytest.raises(DatabaseError) as raised, transaction.atomic():  # a savepoint: the test's transaction lives on
        _driver_fetchall(connection, "SELECT * FROM no_such_table_here", [])
    assert type(raised.value).__module__ == "django.db.utils"
    assert raised.value.__cause__ is not None  # the driver's own error, kept as the cause


def test_a_broken_transaction_is_refused_as_djangos_cursor_refuses_it(two_patients):
    from django.db import DatabaseError, transaction
    from django.db.transaction import TransactionManagementError

    patient, _ = two_patients
    window = {"start": DAY - datetime.timedelta(days=9), "end": DAY}
    with transaction.atomic():
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")
        connection.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            MOODS(patient_id=patient.pk, **window)


def test_datetimes_read_through_the_drivers_cursor_are_aware_utc(two_patients):
    from core.prepared import _driver_fetchall

    ((now,),) = _driver_fetchall(connection, "SELECT CURRENT_TIMESTAMP", [])
    if connection.vendor == "postgresql":  # SQLite answers text; the ORM's converters parse it
        assert now.utcoffset() == datetime.timedelta(0)
        assert abs(now - timezone.now()) < datetime.timedelta(minutes=5)
