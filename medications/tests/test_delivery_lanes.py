"""medications.services.delivery.send_batch: a big batch over several SMTP connections at once,
each reminder emailed once whichever connection sends it."""

from __future__ import annotations

import pytest

from accounts.tests.factories import PatientFactory
from core.tests.servers import SmtpServer, free_port
from medications.models import Reminder
from medications.services import delivery
from medications.services.delivery import EMAIL_FIELDS, send_batch
from medications.tests.backends import ScriptedBackend
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


def _batch(emails: list[str]) -> list[Reminder]:
    """What the sweep hands send_batch: the claimed rows with the fields composing reads."""
    ids = [ReminderFactory(medication=MedicationFactory(patient=PatientFactory(email=email))).pk for email in emails]
    return list(
        Reminder.objects.filter(pk__in=ids).select_related("medication", "patient").only(*EMAIL_FIELDS).order_by("id")
    )


@pytest.fixture
def scripted(settings):
    settings.EMAIL_BACKEND = "medications.tests.backends.ScriptedBackend"
    ScriptedBackend.opened = 0
    ScriptedBackend.down = False
    return ScriptedBackend


def test_a_big_batch_goes_over_several_real_smtp_connections_each_reminder_once(settings, django_assert_num_queries):
    server = SmtpServer(port=free_port())
    server.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_SMTP_CONNECTIONS = 4
        emails = [f"lane{n}@example.test" for n in range(4 * delivery.MIN_PER_CONNECTION + 3)]
        batch = _batch(emails)
        with django_assert_num_queries(0):  # composing reads the rows given, in every thread
            outcome = send_batch(batch)
    finally:
        server.stop()
    assert sorted(outcome.sent) == sorted(r.pk for r in batch) and len(set(outcome.sent)) == len(batch)
    assert outcome.failed == outcome.transient == []
    assert server.inbox.recipients() == sorted(emails)  # each patient emailed exactly once


def test_connections_are_bounded_by_the_setting_and_by_the_batch(settings, scripted):
    settings.EMAIL_SMTP_CONNECTIONS = 3
    send_batch(_batch([f"p{n}@example.test" for n in range(10 * delivery.MIN_PER_CONNECTION)]))
    assert scripted.opened == 3  # the setting
    scripted.opened = 0
    send_batch(_batch([f"q{n}@example.test" for n in range(2 * delivery.MIN_PER_CONNECTION - 1)]))
    assert scripted.opened == 1  # under two connections' worth: one
    settings.EMAIL_SMTP_CONNECTIONS = 1
    scripted.opened = 0
    send_batch(_batch([f"r{n}@example.test" for n in range(4 * delivery.MIN_PER_CONNECTION)]))
    assert scripted.opened == 1


def test_refused_and_dropped_addresses_are_sorted_out_per_reminder_across_connections(settings, scripted):
    from django.core import mail

    settings.EMAIL_SMTP_CONNECTIONS = 4
    emails = [
        f"refused{n}@example.test"
        if n % 17 == 0
        else f"flaky{n}@example.test"
        if n % 23 == 5
        else f"ok{n}@example.test"
        for n in range(4 * delivery.MIN_PER_CONNECTION)
    ]
    batch = _batch(emails)
    outcome = send_batch(batch)
    by_email = {r.pk: r.patient.email for r in batch}
    assert sorted(outcome.sent + outcome.failed + outcome.transient) == sorted(by_email)  # each once
    assert {by_email[pk] for pk in outcome.failed} == {e for e in emails if e.startswith("refused")}
    assert {by_email[pk] for pk in outcome.transient} == {e for e in emails if e.startswith("flaky")}
    assert sorted(to for message in mail.outbox for to in message.to) == sorted(e for e in emails if e.startswith("ok"))
