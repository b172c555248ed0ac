"""Web Push end to end: the sweep's due dose → a delivery per subscription → an encrypted,
VAPID-signed POST to a local fake push service, decrypted there with ``http_ece``."""

from __future__ import annotations

import socket

import pytest

from core.tests.servers import due_now
from medications import selectors as medication_selectors
from medications import services as medication_services
from medications.models import Reminder, ReminderStatus
from notifications import services, tasks, webpush
from notifications.models import PushDelivery, PushDeliveryStatus, PushSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(services, "_enqueue", lambda task, delivery_id: ids.append(delivery_id))
    return ids


@pytest.fixture
def push_patient(patient):
    patient.reminder_channels = ["push"]
    patient.save()
    return patient


def subscribe(user, service, browser, path="a") -> PushSubscription:
    subscription, _ = services.subscription_save(
        user=user, endpoint=service.endpoint(path), p256dh=browser.p256dh, auth=browser.auth
    )
    return subscription


def sweep(capture) -> None:
    with capture(execute=True):
        medication_services.sweep()


def test_due_dose_is_pushed_encrypted_and_signed(
    push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks, mailoutbox
):
    subscription = subscribe(push_patient, push_service, browser)
    due_now(push_patient, name="Metformin")
    sweep(django_capture_on_commit_callbacks)
    assert len(enqueued) == 1
    assert tasks.send_push(enqueued[0]) == "sent"

    [message] = push_service.messages()
    payload = browser.decrypt(message)  # real RFC 8291 encryption, decrypted as a browser would
    reminder = Reminder.objects.get()
    local = reminder.scheduled_for.astimezone(push_patient.tzinfo).strftime("%H:%M")
    assert payload["reminder_id"] == reminder.pk
    assert payload["medication_name"] == "Metformin" and payload["dosage"] == "500 mg"
    assert payload["local_time"] == local and payload["body"] == f"500 mg at {local}"
    assert payload["confirm_url"].startswith("http") and "/api/medications/reminders/confirm/" in payload["confirm_url"]
    claims = verify_vapid_claims(message, push_service)
    assert claims["k"] == webpush.vapid_keys().public_key
    assert claims["sub"].startswith("mailto:")
    assert message.headers["ttl"] == str(4 * 3600)
    # Push only: no email, the dose is sent, counted once.
    assert mailoutbox == []
    assert reminder.status == ReminderStatus.SENT
    subscription.refresh_from_db()
    assert subscription.last_success_at is not None
    assert PushDelivery.objects.get().status == PushDeliveryStatus.SENT


def verify_vapid_claims(message, service):
    from notifications.tests.fakepush import verify_vapid

    return verify_vapid(message, audience=service.origin)


def test_two_sweeps_and_a_redelivered_task_push_once(
    push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks
):
    subscribe(push_patient, push_service, browser)
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)
    # A second due signal for the same dose (a crashed sweep's claim taken over) adds nothing.
    reminder = Reminder.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.doses_push_enqueue(doses=[(reminder.pk, push_patient.pk)]) == 0
    assert len(enqueued) == 1
    assert tasks.send_push(enqueued[0]) == "sent"
    assert tasks.send_push(enqueued[0]) == "noop"  # the broker redelivered the message
    assert len(push_service.messages()) == 1


def test_a_batch_of_doses_is_enqueued_in_a_fixed_number_of_queries(
    push_service, enqueued, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from accounts.tests.factories import PatientFactory
    from medications.tests.factories import MedicationFactory, ReminderFactory
    from notifications.tests.fakepush import FakeBrowser

    doses = []
    for index in range(3):
        patient = PatientFactory(reminder_channels=["push"])
        for path in ("phone", "laptop"):
            subscribe(patient, push_service, FakeBrowser(), f"{path}-{index}")
        medication = MedicationFactory(patient=patient)
        doses += [(ReminderFactory(medication=medication).pk, patient.pk) for _ in range(2)]
    # subscriptions, existing deliveries, the insert, the new deliveries' ids
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(4):
        assert services.doses_push_enqueue(doses=doses) == 12  # 6 doses x 2 subscriptions
    assert len(enqueued) == 12 and PushDelivery.objects.count() == 12
    with django_capture_on_commit_callbacks(execute=True):
        assert services.doses_push_enqueue(doses=doses) == 0  # a second due signal adds nothing
    assert len(enqueued) == 12


def test_every_subscription_gets_it_and_email_still_goes(
    patient, push_service, enqueued, django_capture_on_commit_callbacks, mailoutbox
):
    from notifications.tests.fakepush import FakeBrowser

    patient.reminder_channels = ["email", "push"]
    patient.save()
    phone, laptop = FakeBrowser(), FakeBrowser()
    subscribe(patient, push_service, phone, "phone")
    subscribe(patient, push_service, laptop, "laptop")
    due_now(patient, name="Aspirin")
    sweep(django_capture_on_commit_callbacks)
    for delivery_id in enqueued:
        tasks.send_push(delivery_id)
    assert phone.decrypt(push_service.messages("/push/phone")[0])["medication_name"] == "Aspirin"
    assert laptop.decrypt(push_service.messages("/push/laptop")[0])["medication_name"] == "Aspirin"
    assert len(mailoutbox) == 1
    # One dose, whatever the channels did: answered once, counted once.
    assert Reminder.objects.count() == 1
    medication_services.reminder_answer(reminder=Reminder.objects.get(), status=ReminderStatus.TAKEN)
    summary = medication_selectors.adherence_summary(patient=patient, days=1)
    assert (summary["total_reminders"], summary["taken_reminders"]) == (1, 1)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted(
    status, push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks
):
    subscription = subscribe(push_patient, push_service, browser)
    push_service.status_for["/push/a"] = status
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    assert tasks.send_push(enqueued[0]) == "gone"
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()
    assert Reminder.objects.get().status == ReminderStatus.SENT  # the dose itself is untouched


def test_unavailable_push_service_retries_then_sends_once(
    push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks
):
    subscribe(push_patient, push_service, browser)
    push_service.status_for["/push/a"] = 503
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    delivery_id = enqueued[0]
    with pytest.raises(webpush.PushUnavailable):
        services.push_delivery_attempt(delivery_id=delivery_id, attempt=0, final=False)
    assert services.push_delivery_attempt(delivery_id=delivery_id, attempt=0, final=False) == "noop"  # redelivery
    push_service.status_for["/push/a"] = 201
    assert services.push_delivery_attempt(delivery_id=delivery_id, attempt=1, final=False) == "sent"
    assert len(push_service.messages()) == 2
    assert PushDelivery.objects.get().attempts == 2


def test_the_task_retries_with_backoff_and_fails_after_the_last_try():
    assert tasks.send_push.autoretry_for == (webpush.PushUnavailable,)
    assert tasks.send_push.retry_backoff and tasks.send_push.retry_jitter
    assert tasks.send_push.max_retries == 5


def test_last_try_marks_the_delivery_failed(
    push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks
):
    subscribe(push_patient, push_service, browser)
    push_service.status_for["/push/a"] = 500
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    assert services.push_delivery_attempt(delivery_id=enqueued[0], attempt=0, final=True) == "failed"
    assert PushDelivery.objects.get().status == PushDeliveryStatus.FAILED
    assert Reminder.objects.get().status == ReminderStatus.SENT


def test_a_redirect_is_never_followed(
    push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks
):
    subscribe(push_patient, push_service, browser)
    push_service.status_for["/push/a"] = 307
    push_service.headers_for["/push/a"] = {"Location": push_service.endpoint("elsewhere")}
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    assert tasks.send_push(enqueued[0]) == "failed"
    assert [m.path for m in push_service.messages()] == ["/push/a"]


def test_an_answered_dose_is_not_pushed(
    push_patient, push_service, browser, enqueued, django_capture_on_commit_callbacks
):
    subscribe(push_patient, push_service, browser)
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    medication_services.reminder_answer(reminder=Reminder.objects.get(), status=ReminderStatus.TAKEN)
    assert tasks.send_push(enqueued[0]) == "skipped"
    assert push_service.messages() == []


def test_email_only_patients_get_no_push(patient, push_service, browser, enqueued, django_capture_on_commit_callbacks):
    subscribe(patient, push_service, browser)  # subscribed, but reminder_channels is ["email"]
    due_now(patient)
    sweep(django_capture_on_commit_callbacks)
    assert enqueued == []


def test_a_host_re_pointed_at_a_private_address_is_refused_before_connecting(
    push_patient, browser, settings, monkeypatch, enqueued, django_capture_on_commit_callbacks
):
    """DNS rebinding: the name was public when subscribing, private when delivering."""
    answers = {"addr": "93.184.216.34"}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers["addr"], port))]

    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", no_connection)
    services.subscription_save(
        user=push_patient, endpoint="https://push.example.test/sub/1", p256dh=browser.p256dh, auth=browser.auth
    )
    answers["addr"] = "10.0.0.5"
    due_now(push_patient)
    sweep(django_capture_on_commit_callbacks)
    assert tasks.send_push(enqueued[0]) == "failed"


def test_vapid_keys_are_generated_once_and_shared(db):
    from notifications.models import VapidKeyPair

    first = webpush.vapid_keys().public_key
    webpush.forget_keys()  # another process
    assert webpush.vapid_keys().public_key == first
    assert VapidKeyPair.objects.count() == 1
    assert len(webpush.vapid_keys().public_key) == 87  # base64url of a 65-byte point


def test_vapid_keys_from_the_environment(settings):
    from cryptography.hazmat.primitives.asymmetric import ec

    from notifications.tests.fakepush import b64url

    private = ec.generate_private_key(ec.SECP256R1())
    settings.VAPID_PRIVATE_KEY = b64url(private.private_numbers().private_value.to_bytes(32, "big"))
    public = webpush.vapid_keys().public_key
    webpush.forget_keys()
    settings.VAPID_PUBLIC_KEY = public
    assert webpush.vapid_keys().public_key == public
    webpush.forget_keys()
    from django.core.exceptions import ImproperlyConfigured

    from notifications.tests.fakepush import FakeBrowser

    settings.VAPID_PUBLIC_KEY = FakeBrowser().p256dh  # another key's public half

    with pytest.raises(ImproperlyConfigured):
        webpush.vapid_keys()
