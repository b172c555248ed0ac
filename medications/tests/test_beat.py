"""The sweep is on the beat schedule, under a task name the worker knows."""

from celery.schedules import crontab
from django.conf import settings

from config.celery import app


def test_beat_runs_the_registered_sweep_task():
    entry = settings.CELERY_BEAT_SCHEDULE["medications-send-due-reminders"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert "medications.retry_reminder_email" in app.tasks
    # Default 300 s: on the clock, every 5 minutes.
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].minute == set(range(0, 60, 5))
