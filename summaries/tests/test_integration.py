"""PostgreSQL: the digest's once-per-week guarantee holds under real concurrency."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection, connections

from accounts.tests.factories import PatientFactory
from conftest import skip_or_fail
from summaries import services
from summaries.models import DigestDelivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_digest_sends_deliver_once():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)")
    patient = PatientFactory(email_digest_enabled=True)
    start = threading.Barrier(4)
    results: list[bool] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(services.digest_send(patient_id=patient.pk, week_of=datetime.date(2026, 3, 8)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get().status == "sent"
