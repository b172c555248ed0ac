"""Admin pages for notifications load and filter; the endpoint and the VAPID private key are
never shown."""

import pytest

from medications.tests.factories import ReminderFactory
from notifications import webpush
from notifications.models import PushDelivery, PushSubscription, VapidKeyPair

pytestmark = pytest.mark.django_db


def test_changelists_filter_and_hide_secrets(admin_client, patient):
    subscription = PushSubscription.objects.create(
        user=patient, endpoint="https://push.example.test/Zq-capability", p256dh="p", auth="a"
    )
    PushDelivery.objects.create(subscription=subscription, reminder=ReminderFactory(), status="sent")
    public = webpush.vapid_keys().public_key
    private = VapidKeyPair.objects.get().private_key
    pages = [
        "/admin/notifications/pushsubscription/",
        f"/admin/notifications/pushsubscription/?q={patient.username}",
        "/admin/notifications/pushdelivery/?status__exact=sent",
        "/admin/notifications/liveevent/",
        "/admin/notifications/vapidkeypair/",
        "/admin/notifications/vapidkeypair/1/change/",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert private.encode() not in response.content
    listing = admin_client.get("/admin/notifications/pushsubscription/").content
    assert b"Zq-capability" not in listing
    assert public.encode() in admin_client.get("/admin/notifications/vapidkeypair/").content
    assert admin_client.get("/admin/notifications/vapidkeypair/add/").status_code == 403
