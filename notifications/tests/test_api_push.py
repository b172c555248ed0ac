"""The push subscription routes, the VAPID key route, the profile's reminder_channels, and the
endpoint checks that keep the server from being a proxy into its own network."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from accounts.tests.factories import PatientFactory
from conftest import client_for
from notifications import webpush
from notifications.models import PushSubscription
from notifications.tests.fakepush import FakeBrowser

pytestmark = pytest.mark.django_db
URL = "/api/notifications/push-subscriptions/"
PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture
def dns(monkeypatch):
    """Name → address answers for the endpoint checks (no real lookups, no traffic anywhere)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise socket.gaierror(f"{host} is not in this test's DNS") from None
        return real(host, port, *args, **kwargs)  # an IP literal: no lookup

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    answers["push.example.test"] = [PUBLIC_ADDRESS]
    return answers


def body(endpoint: str, browser: FakeBrowser | None = None) -> dict:
    browser = browser or FakeBrowser()
    return {"endpoint": endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}, "expirationTime": None}


def test_subscribe_list_resubscribe_and_delete(patient_client, patient, dns):
    endpoint = "https://push.example.test/v1/abc"
    created = patient_client.post(URL, body(endpoint), format="json")
    assert created.status_code == 201, created.json()
    assert set(created.json()) == {"id", "endpoint", "created_at", "last_success_at"}
    again = patient_client.post(URL, body(endpoint), format="json")  # new keys for the same browser
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert PushSubscription.objects.count() == 1
    assert [s["endpoint"] for s in patient_client.get(URL).json()] == [endpoint]
    assert patient_client.delete(f"{URL}{created.json()['id']}/").status_code == 204
    assert patient_client.get(URL).json() == []


def test_another_users_subscription_is_a_404_and_not_listed(patient_client, dns):
    other = PatientFactory()
    theirs = PushSubscription.objects.create(user=other, endpoint="https://push.example.test/x", p256dh="p", auth="a")
    assert patient_client.get(URL).json() == []
    assert patient_client.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert PushSubscription.objects.filter(pk=theirs.pk).exists()


def test_doctors_cannot_subscribe(doctor_client, dns):
    response = doctor_client.post(URL, body("https://push.example.test/v1/doc"), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("https://127.0.0.1/push", "public host"),
        ("https://10.1.2.3/push", "public host"),
        ("https://169.254.169.254/latest/meta-data", "public host"),
        ("https://[::1]/push", "public host"),
        ("https://[::ffff:10.0.0.1]/push", "public host"),
        ("https://224.0.0.1/push", "public host"),
        ("https://0.0.0.0/push", "public host"),
        ("https://100.64.0.1/push", "public host"),
        ("https://internal.example.test/push", "public host"),  # resolves to 192.168.1.20
        ("https://mixed.example.test/push", "public host"),  # one public, one private address
        ("https://nowhere.example.test/push", "does not resolve"),
        ("http://push.example.test/push", "https://"),
        ("ftp://push.example.test/push", "https://"),
        ("https://user:pw@push.example.test/push", "user name"),
        ("https:///push", "no host"),
        ("https://push.example.test:99999/push", "valid URL"),
        ("not a url", "https://"),
    ],
)
def test_refused_endpoints(patient_client, dns, endpoint, reason):
    dns["internal.example.test"] = ["192.168.1.20"]
    dns["mixed.example.test"] = [PUBLIC_ADDRESS, "10.0.0.7"]
    response = patient_client.post(URL, body(endpoint), format="json")
    assert response.status_code == 400, response.json()
    assert reason in response.json()["endpoint"][0]
    assert not PushSubscription.objects.exists()


def test_nowhere_resolves(monkeypatch, patient_client):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    response = patient_client.post(URL, body("https://push.example.test/v1"), format="json")
    assert response.status_code == 400 and "does not resolve" in response.json()["endpoint"][0]


def test_private_endpoints_and_http_only_when_the_operator_allows_them(patient_client, settings, dns):
    settings.WEBPUSH_ALLOW_PRIVATE_ENDPOINTS = True
    assert patient_client.post(URL, body("http://127.0.0.1:9555/push"), format="json").status_code == 201


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": "AAAA", "auth": FakeBrowser().auth}, "p256dh"),
        ({"p256dh": FakeBrowser().p256dh, "auth": "AAAA"}, "auth"),
        ({"p256dh": "***", "auth": FakeBrowser().auth}, "p256dh"),
        ({"p256dh": FakeBrowser().p256dh}, "auth"),
        ({"p256dh": 5, "auth": FakeBrowser().auth}, "p256dh"),
    ],
)
def test_bad_keys(patient_client, dns, keys, field):
    response = patient_client.post(URL, {"endpoint": "https://push.example.test/k", "keys": keys}, format="json")
    assert response.status_code == 400
    assert field in response.json()["keys"]


def test_subscription_list_costs_a_fixed_number_of_queries(patient, dns, django_assert_num_queries):
    for n in range(5):
        PushSubscription.objects.create(user=patient, endpoint=f"https://push.example.test/{n}", p256dh="p", auth="a")
    client = client_for(patient)
    with django_assert_num_queries(2):  # the user (cache off in tests), the subscriptions
        response = client.get(URL)
    assert len(response.json()) == 5


def test_vapid_public_key_is_public_and_stable(anon):
    first = anon.get("/api/notifications/vapid-public-key/")
    assert first.status_code == 200
    key = first.json()["public_key"]
    webpush.forget_keys()  # as another process: read from the database, not this one's memory
    assert anon.get("/api/notifications/vapid-public-key/").json()["public_key"] == key


def test_profile_reminder_channels(patient_client, patient):
    assert patient_client.get("/api/auth/profile/").json()["reminder_channels"] == ["email"]
    response = patient_client.patch("/api/auth/profile/", {"reminder_channels": ["push"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["reminder_channels"] == ["push"]
    assert response.json()["email_reminders_enabled"] is False
    patient.refresh_from_db()
    assert (patient.email_reminders_enabled, patient.push_reminders_enabled) == (False, True)
    both = patient_client.patch("/api/auth/profile/", {"reminder_channels": ["push", "email"]}, format="json")
    assert both.json()["reminder_channels"] == ["email", "push"]
    off = patient_client.patch("/api/auth/profile/", {"email_reminders_enabled": False}, format="json")
    assert off.json()["reminder_channels"] == ["push"]


@pytest.mark.parametrize(
    "value",
    [["sms"], ["email", "email"], "email", ["email", "push", "push"], [1]],
)
def test_profile_reminder_channels_validation(patient_client, value):
    response = patient_client.patch("/api/auth/profile/", {"reminder_channels": value}, format="json")
    assert response.status_code == 400
    assert "reminder_channels" in response.json()


def test_profile_reminder_channels_contradicting_email_switch(patient_client):
    response = patient_client.patch(
        "/api/auth/profile/", {"reminder_channels": ["push"], "email_reminders_enabled": True}, format="json"
    )
    assert response.status_code == 400 and "reminder_channels" in response.json()
