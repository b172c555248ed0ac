"""Retention: access-log and reminder rows older than DATA_RETENTION_DAYS go, in batches."""

from __future__ import annotations

import datetime
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import DataAccessLog
from accounts.tests.factories import DoctorFactory, PatientFactory
from medications.models import Reminder
from medications.tests.factories import MedicationFactory, ReminderFactory
from summaries import retention, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    """Three old and one recent row of each kind (40, 45 and 50 days old; 1 day old)."""
    patient, doctor = PatientFactory(), DoctorFactory()
    medication = MedicationFactory(patient=patient)
    now = timezone.now()
    for days in (40, 45, 50, 1):
        when = now - datetime.timedelta(days=days)
        ReminderFactory(medication=medication, scheduled_for=when)
        DataAccessLog.objects.create(
            doctor=doctor, doctor_name="Dr", patient=patient, resource="symptoms", accessed_at=when
        )
    return now


def _counts() -> tuple[int, int]:
    return DataAccessLog.objects.count(), Reminder.objects.count()


def test_unset_keeps_everything(rows, settings):
    settings.DATA_RETENTION_DAYS = 0
    out = StringIO()
    call_command("apply_retention", stdout=out)
    assert "everything is kept" in out.getvalue()
    assert tasks.apply_data_retention() == {}
    assert _counts() == (4, 4)


def test_the_task_deletes_old_rows_once(rows, settings):
    settings.DATA_RETENTION_DAYS = 30
    assert tasks.apply_data_retention() == {"access_log": 3, "reminders": 3}
    assert tasks.apply_data_retention() == {"access_log": 0, "reminders": 0}
    assert _counts() == (1, 1)
    recent = timezone.now() - datetime.timedelta(days=2)
    assert Reminder.objects.get().scheduled_for > recent
    assert DataAccessLog.objects.get().accessed_at > recent


def test_the_command_in_small_batches(rows, settings):
    settings.DATA_RETENTION_DAYS = 30
    out = StringIO()
    call_command("apply_retention", "--batch-size", "2", stdout=out)
    assert "access_log: 3 rows" in out.getvalue()
    assert "reminders: 3 rows" in out.getvalue()
    assert _counts() == (1, 1)


def test_days_override_and_dry_run(rows, settings):
    settings.DATA_RETENTION_DAYS = 0
    out = StringIO()
    call_command("apply_retention", "--days", "46", "--dry-run", stdout=out)
    assert "reminders: 1 rows" in out.getvalue()  # only the 50-day-old one is past 46 days
    assert _counts() == (4, 4)
    call_command("apply_retention", "--days", "46", stdout=StringIO())
    assert _counts() == (3, 3)


@pytest.mark.parametrize("args", [["--days", "0"], ["--batch-size", "0"]])
def test_bad_arguments(args, rows):
    with pytest.raises(SystemExit):
        call_command("apply_retention", *args, stdout=StringIO(), stderr=StringIO())
    assert _counts() == (4, 4)


def test_a_run_is_bounded_and_the_task_continues_in_a_new_run(rows, settings):
    settings.DATA_RETENTION_DAYS = 30
    with (
        mock.patch.object(retention, "BATCH_SIZE", 2),
        mock.patch.object(tasks, "RETENTION_BATCHES_PER_RUN", 1),
        mock.patch.object(tasks.apply_data_retention, "delay") as again,
    ):
        assert tasks.apply_data_retention() == {"access_log": 2, "reminders": 2}
        assert again.call_count == 1  # one old row of each kind is left for the next run
        assert tasks.apply_data_retention() == {"access_log": 1, "reminders": 1}
        assert again.call_count == 1
    assert _counts() == (1, 1)


def test_it_runs_monthly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["data-retention"]
    assert entry["task"] == tasks.apply_data_retention.name
    assert entry["schedule"].day_of_month == {1}
