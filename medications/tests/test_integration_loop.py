"""The adherence loop through the real processes: PostgreSQL, Redis, a `celery worker` process
and an aiosmtpd server. A caregiver is invited (the worker emails the invitation) and accepts on
the emailed page; a dose is snoozed from the emailed link, emailed again at the snooze time,
followed up once (remind again), becomes missed and is reported to the accepted caregiver only:
exactly the expected emails, and replays of every sweep add none.
"""

import datetime
import re
import time
import uuid

import pytest
from django.test import Client

from accounts import services as account_services
from accounts import tasks as account_tasks
from accounts.models import Caregiver, CaregiverStatus
from accounts.tests.factories import PatientFactory
from core.tests.servers import database_url, due_now, start_worker, stop_process, wait_for
from medications.models import Reminder, ReminderStatus
from medications.tasks import send_due_reminders
from medications.tests.test_integration import require_postgres, require_redis, smtp_inbox  # noqa: F401

pytestmark = pytest.mark.integration
MINUTE = datetime.timedelta(minutes=1)


def _link(message, kind: str) -> str:
    """The path of the first emailed link of this kind, from the plain-text part."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            body = part.get_payload(decode=True).decode()
            return re.search(rf"https?://[^/\s]+(/api/\S*/{kind}/[^/\s]+/)", body).group(1)
    raise AssertionError("no text part")


def test_snoozed_followed_up_missed_and_reported_to_the_accepted_caregiver(
    transactional_db,
    smtp_inbox,  # noqa: F811 (the fixture imported above)
    monkeypatch,
    settings,
):
    require_postgres()
    redis_url = require_redis()
    inbox, port = smtp_inbox
    queue = f"it-loop-{uuid.uuid4().hex[:8]}"
    # Invitations go to this test's queue (the service enqueues after the commit).
    monkeypatch.setattr(
        account_services,
        "_enqueue_invitation",
        lambda caregiver_id: account_tasks.send_caregiver_invitation.apply_async(args=(caregiver_id,), queue=queue),
    )
    patient = PatientFactory(
        timezone="Europe/Berlin", email="pat@example.test", first_name="Pat", last_name="", remind_again_minutes=10
    )
    account_services.caregiver_invite(patient=patient, email="yes@example.test", name="Yes")
    account_services.caregiver_invite(patient=patient, email="no@example.test", name="No")
    due_now(patient)  # a dose 5 minutes ago

    env = {
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
        "PUBLIC_URL": "http://testserver",
    }
    worker = start_worker(queue=queue, env=env)
    import redis

    broker = redis.Redis.from_url(redis_url)

    def sweep_at(at: datetime.datetime, expected: int) -> None:
        """The beat's task on the worker, as if the clock read ``at`` (twice: a replay)."""
        for _ in range(2):
            send_due_reminders.apply_async(kwargs={"at": at.isoformat()}, queue=queue)
        assert wait_for(lambda: broker.llen(queue) == 0 and len(inbox.messages) >= expected, timeout=60), (
            f"expected {expected} emails, got {len(inbox.messages)}"
        )
        time.sleep(1.0)  # anything extra would arrive now
        assert len(inbox.messages) == expected

    try:
        assert wait_for(lambda: len(inbox.messages) >= 2, timeout=60), "no invitations in 60 s"
        time.sleep(0.5)
        assert inbox.recipients() == ["no@example.test", "yes@example.test"]
        invitation = next(msg for rcpts, msg in inbox.messages if rcpts == ["yes@example.test"])
        assert invitation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        web = Client()
        accept = _link(invitation, "accept")
        assert "<form" in web.get(accept).content.decode()  # a scanner's GET accepts nothing
        assert Caregiver.objects.get(email="yes@example.test").status == CaregiverStatus.INVITED
        assert web.post(accept).status_code == 200
        assert Caregiver.objects.get(email="yes@example.test").status == CaregiverStatus.ACCEPTED

        dose_time = patient.medications.get().next_dose_at
        sweep_at(dose_time + MINUTE, expected=3)  # the reminder
        due = Reminder.objects.get()
        assert due.status == ReminderStatus.SENT
        reminder = inbox.messages[2][1]
        assert reminder["Subject"].startswith("Reminder: Metformin 500 mg at ")
        snooze = _link(reminder, "snooze")
        assert "<form" in web.get(snooze).content.decode()
        due.refresh_from_db()
        assert due.snoozed_until is None
        assert web.post(snooze).status_code == 200  # snoozed 15 minutes from the real clock
        due.refresh_from_db()
        snoozed_until = due.snoozed_until
        assert snoozed_until is not None

        sweep_at(snoozed_until - MINUTE, expected=3)  # not yet
        sweep_at(snoozed_until, expected=4)  # the snooze email
        sweep_at(snoozed_until + 9 * MINUTE, expected=4)  # remind again: 10 minutes after it
        sweep_at(snoozed_until + 10 * MINUTE, expected=5)  # the one follow-up
        sweep_at(dose_time + datetime.timedelta(hours=4, minutes=1), expected=6)  # missed: the alert
        sweep_at(dose_time + datetime.timedelta(hours=5), expected=6)

        subjects = [(rcpts, msg["Subject"]) for rcpts, msg in inbox.messages[2:]]
        assert [rcpts for rcpts, _ in subjects] == [["pat@example.test"]] * 3 + [["yes@example.test"]]
        assert subjects[1][1].startswith("Snoozed reminder: Metformin")
        assert subjects[2][1].startswith("Still to take: Metformin")
        assert subjects[3][1] == "Pat missed 1 medication dose"
        alert = inbox.messages[5][1]
        assert alert["List-Unsubscribe"].strip().startswith("<http://testserver/api/auth/caregivers/unsubscribe/")
        assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Metformin" not in alert.as_string()  # names not shared
        due.refresh_from_db()
        assert due.status == ReminderStatus.MISSED
    finally:
        print(stop_process(worker, timeout=20))
