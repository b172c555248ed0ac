"""PostgreSQL: core.prepared's queries are server-side prepared statements of each connection
(core/db/base.py), with the same answers, across reconnects and refusals."""

from __future__ import annotations

import datetime

import psycopg2
import pytest
from django.db import DatabaseError, InternalError, connection, transaction
from django.db.models import Count
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import PatientFactory
from conftest import client_for
from core.db.base import statement_text
from core.prepared import PreparedQuery
from core.tests.servers import database_url, wait_for
from medications.models import Reminder, ReminderStatus
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


def _counted(patient_id: int, since: datetime.datetime):
    return (
        Reminder.objects.filter(
            patient_id=patient_id,
            scheduled_for__gte=since,
            status__in=[ReminderStatus.TAKEN, ReminderStatus.MISSED],
        )
        .values("medication_id")
        .annotate(n=Count("id"))
        .order_by("medication_id")
    )


COUNTED = PreparedQuery(_counted, patient_id=int, since=datetime.datetime)
COUNTED_REPLANNED = PreparedQuery(_counted, replan=True, patient_id=int, since=datetime.datetime)


@pytest.fixture
def doses(postgres):
    patient = PatientFactory()
    medication = MedicationFactory(patient=patient)
    for hours, status in [(1, ReminderStatus.TAKEN), (2, ReminderStatus.MISSED), (3, ReminderStatus.PENDING)]:
        ReminderFactory(
            medication=medication, patient=patient, scheduled_for=NOW - datetime.timedelta(hours=hours), status=status
        )
    return patient, medication


def _statements() -> list[str]:
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'meditrack_%%'")
        return [row[0] for row in cursor.fetchall()]


def _expected(_patient, medication):
    return [{"medication_id": medication.pk, "n": 2}]  # the taken and the missed dose


def test_statement_text_numbers_the_slots_and_writes_the_constants():
    sql = "SELECT %s, '%%' || name FROM t WHERE a = %s AND b IN (%s, %s)"
    literal = "'{}'".format
    assert statement_text(sql, [1, "x", 2, "y"], (0, 2), literal) == (
        "SELECT $1, '%' || name FROM t WHERE a = 'x' AND b IN ($2, 'y')"
    )
    assert statement_text(sql, [1, 2, 3], (0,), literal) is None  # the SQL has four parameters
    assert statement_text(sql, [1, 2, 3, 4, 5], (0,), literal) is None


def test_the_query_runs_as_a_prepared_statement_with_the_orms_answer(doses):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    assert COUNTED(patient_id=patient.pk, since=since) == list(_counted(patient.pk, since)) == _expected(*doses)
    with CaptureQueriesContext(connection) as queries:
        assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    assert len(queries.captured_queries) == 1  # PREPARE is no query of a request's count
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE meditrack_")
    # The constants (the statuses) are literals of the statement: its plan knows them.
    (statement,) = [s for s in _statements() if "medications_reminder" in s and "GROUP BY" in s]
    assert "'taken'" in statement and "'missed'" in statement
    assert "$1" in statement and "$2" in statement and "$3" not in statement


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(doses):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    backend = connection.connection.get_backend_pid()
    with psycopg2.connect(database_url()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    assert wait_for(lambda: not connection.is_usable(), timeout=5)
    connection.close()  # what Django does with a connection found unusable
    assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    assert connection.connection.get_backend_pid() != backend


def test_inside_a_transaction_a_statement_the_server_refuses_is_sent_as_sql(postgres):
    # PostgreSQL refuses to prepare it (it cannot pick the operator for two untyped
    # parameters): PREPARE fails, in a savepoint.
    with transaction.atomic():
        assert connection.prepared(object(), "SELECT %s + %s", [1, 2], (0, 1)) is None
        with connection.cursor() as cursor:  # the transaction is still usable
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)


def test_in_a_transaction_a_session_that_lost_its_statements_fails_once(doses):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    with connection.connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler resetting the session would
    with pytest.raises(DatabaseError), transaction.atomic():
        COUNTED(patient_id=patient.pk, since=since)
    # Every statement is prepared again, this one's and the others' (the user's, here).
    assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    assert client_for(patient).get("/api/auth/profile/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_session_that_lost_its_statements_is_not_noticed(doses):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    assert client_for(patient).get("/api/auth/profile/").status_code == 200
    assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    with connection.connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert COUNTED(patient_id=patient.pk, since=since) == _expected(*doses)
    assert client_for(patient).get("/api/auth/profile/").status_code == 200
    assert len(_statements()) >= 2


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_already_failed_fails_as_django_reports_it(doses):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    fresh = PreparedQuery(_counted, patient_id=int, since=datetime.datetime)  # not prepared yet
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM medications_reminder")
        with pytest.raises(TransactionManagementError):  # what the plain SQL meets, not a PREPARE error
            fresh(patient_id=patient.pk, since=since)
        transaction.set_rollback(True)
    assert fresh(patient_id=patient.pk, since=since) == _expected(*doses)


def test_replanned_queries_and_the_setting_send_plain_sql(doses, settings):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    with CaptureQueriesContext(connection) as queries:
        assert COUNTED_REPLANNED(patient_id=patient.pk, since=since) == _expected(*doses)
    assert queries.captured_queries[0]["sql"].startswith("SELECT")
    settings.DB_PREPARED_STATEMENTS = False
    fresh = PreparedQuery(_counted, patient_id=int, since=datetime.datetime)
    with CaptureQueriesContext(connection) as queries:
        assert fresh(patient_id=patient.pk, since=since) == _expected(*doses)
    assert queries.captured_queries[0]["sql"].startswith("SELECT")


@pytest.mark.django_db(transaction=True)
def test_a_transaction_the_driver_saw_fail_fails_with_djangos_error(doses):
    patient, _ = doses
    since = NOW - datetime.timedelta(days=1)
    fresh = PreparedQuery(_counted, patient_id=int, since=datetime.datetime)
    with transaction.atomic():
        with connection.connection.cursor() as cursor, pytest.raises(psycopg2.Error):
            cursor.execute("SELECT no_such_column FROM medications_reminder")  # Django never heard
        with pytest.raises(InternalError, match="current transaction is aborted"):
            fresh(patient_id=patient.pk, since=since)
        transaction.set_rollback(True)
    assert fresh(patient_id=patient.pk, since=since) == _expected(*doses)
