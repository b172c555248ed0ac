"""Caregivers: the routes, the invitation email and its signed links, rate limits, no oracle."""

import re

import pytest
from django.core import mail, signing

from accounts import services, tasks
from accounts.models import Caregiver, CaregiverStatus
from accounts.tests.factories import PatientFactory
from conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/api/auth/caregivers/"


@pytest.fixture(autouse=True)
def _mail(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_URL = "https://meditrack.example"
    # The worker's job, run inline: the invitation task is enqueued after the commit.
    monkeypatch.setattr(
        tasks.send_caregiver_invitation, "apply_async", lambda args: tasks.send_caregiver_invitation(*args)
    )


def invite(client, django_capture_on_commit_callbacks, **body):
    body = {"email": "mum@example.test", "name": "Mum", **body}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, body, format="json")


def link(message, kind: str) -> str:
    return re.search(rf"https://meditrack\.example(/api/auth/caregivers/{kind}/[^/\s]+/)", message.body).group(1)


def test_invite_lists_and_emails_once(patient_client, patient, django_capture_on_commit_callbacks):
    response = invite(patient_client, django_capture_on_commit_callbacks, email="Mum@Example.TEST")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "email", "name", "status", "created_at", "accepted_at"}
    assert body["status"] == "invited" and body["email"] == "Mum@example.test" and body["accepted_at"] is None
    (message,) = mail.outbox
    assert message.to == ["Mum@example.test"]
    assert patient.display_name in message.subject
    assert "/api/auth/caregivers/accept/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "/api/auth/caregivers/accept/" in html
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<https://meditrack.example/api/auth/caregivers/unsubscribe/"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The task again (a redelivered message): no second email.
    assert tasks.send_caregiver_invitation(body["id"]) == "noop"
    assert len(mail.outbox) == 1
    listed = patient_client.get(URL).json()
    assert [row["id"] for row in listed] == [body["id"]]


def test_invitation_escapes_user_text(django_capture_on_commit_callbacks):
    patient = PatientFactory(first_name="Tom &", last_name="<Jerry>")  # factories skip validation
    invite(client_for(patient), django_capture_on_commit_callbacks, name="Ann")
    (message,) = mail.outbox
    assert "Tom & <Jerry>" in message.body
    html = message.alternatives[0][0]
    assert "<Jerry>" not in html and "Tom &amp; &lt;Jerry&gt;" in html


def test_html_in_the_name_is_refused(patient_client, django_capture_on_commit_callbacks):
    response = invite(patient_client, django_capture_on_commit_callbacks, name="<img src=x onerror=alert(1)>")
    assert response.status_code == 400 and "name" in response.json()
    assert mail.outbox == []


@pytest.mark.parametrize("body", [{"email": "not-an-email"}, {"name": ""}, {"email": ""}])
def test_invalid_bodies_are_400(patient_client, django_capture_on_commit_callbacks, body):
    assert invite(patient_client, django_capture_on_commit_callbacks, **body).status_code == 400


def test_the_same_address_twice_is_400(patient_client, django_capture_on_commit_callbacks):
    invite(patient_client, django_capture_on_commit_callbacks)
    response = invite(patient_client, django_capture_on_commit_callbacks, email="MUM@example.test")
    assert response.status_code == 400 and "already" in response.json()["email"][0]
    assert Caregiver.objects.count() == 1 and len(mail.outbox) == 1


def test_answer_is_the_same_for_a_meditrack_user_and_a_stranger(patient_client, django_capture_on_commit_callbacks):
    PatientFactory(email="user@example.test", first_name="Existing")
    known = invite(patient_client, django_capture_on_commit_callbacks, email="user@example.test").json()
    unknown = invite(patient_client, django_capture_on_commit_callbacks, email="nobody@example.test").json()
    strip = {"id", "email", "created_at"}
    assert {k: v for k, v in known.items() if k not in strip} == {k: v for k, v in unknown.items() if k not in strip}
    first, second = mail.outbox
    assert "Existing" not in first.body
    assert first.subject == second.subject
    assert re.sub(r"https://\S+", "", first.body) == re.sub(r"https://\S+", "", second.body)


def test_invitations_are_rate_limited_per_patient(settings, patient_client, django_capture_on_commit_callbacks):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "caregiver_invite": "2/d"}
    for n in range(2):
        assert invite(patient_client, django_capture_on_commit_callbacks, email=f"a{n}@example.test").status_code == 201
    response = invite(patient_client, django_capture_on_commit_callbacks, email="a9@example.test")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["detail"].startswith("Too many invitations; try again later.")
    assert len(mail.outbox) == 2


def test_invitations_are_rate_limited_per_address_whoever_asks(settings, django_capture_on_commit_callbacks):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "caregiver_invite_address": "2/d"}
    for _ in range(2):
        assert invite(client_for(PatientFactory()), django_capture_on_commit_callbacks).status_code == 201
    response = invite(client_for(PatientFactory()), django_capture_on_commit_callbacks, email="MUM@example.test")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many invitations; try again later.")  # the same words either way
    assert len(mail.outbox) == 2


def test_at_most_ten_caregivers(patient, patient_client, django_capture_on_commit_callbacks):
    Caregiver.objects.bulk_create(
        Caregiver(patient=patient, email=f"c{n}@example.test", name="C") for n in range(services.MAX_CAREGIVERS)
    )
    response = invite(patient_client, django_capture_on_commit_callbacks)
    assert response.status_code == 400 and "At most" in response.json()["email"][0]


def test_delete_is_204_and_another_patients_is_404(patient, patient_client):
    mine = Caregiver.objects.create(patient=patient, email="a@example.test", name="A")
    theirs = Caregiver.objects.create(patient=PatientFactory(), email="b@example.test", name="B")
    assert patient_client.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert patient_client.delete(f"{URL}{mine.pk}").status_code == 204
    assert list(Caregiver.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_doctors_are_refused(doctor_client):
    assert doctor_client.get(URL).status_code == 403
    assert doctor_client.post(URL, {"email": "a@example.test", "name": "A"}, format="json").status_code == 403


def test_list_costs_a_fixed_number_of_queries(patient, patient_client, django_assert_num_queries):
    for n in range(5):
        Caregiver.objects.create(patient=patient, email=f"c{n}@example.test", name=f"C{n}")
    with django_assert_num_queries(2):  # the user (authentication), the caregivers
        response = patient_client.get(URL)
    assert len(response.json()) == 5


def test_transient_smtp_failure_gives_the_claim_back(patient, monkeypatch):
    from core import mail as core_mail
    from core.mail import EmailDeliveryError

    caregiver = Caregiver.objects.create(patient=patient, email="a@example.test", name="A")

    def down(**kwargs):
        raise EmailDeliveryError("SMTPServerDisconnected")

    monkeypatch.setattr(core_mail, "send_templated_email", down)
    with pytest.raises(EmailDeliveryError):
        services.caregiver_send_invitation(caregiver_id=caregiver.pk)
    caregiver.refresh_from_db()
    assert caregiver.invitation_sent_at is None
    monkeypatch.undo()
    assert services.caregiver_send_invitation(caregiver_id=caregiver.pk) == "sent"


# --- The emailed links -----------------------------------------------------------------------


def test_accept_get_changes_nothing_post_accepts(anon, patient, patient_client, django_capture_on_commit_callbacks):
    invite(patient_client, django_capture_on_commit_callbacks, name="Ann <3")
    path = link(mail.outbox[0], "accept")
    page = anon.get(path)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert '<form method="post">' in page.content.decode() and "Ann &lt;3" in page.content.decode()
    assert Caregiver.objects.get().status == CaregiverStatus.INVITED
    done = anon.post(path)
    assert done.status_code == 200 and "Accepted" in done.content.decode()
    caregiver = Caregiver.objects.get()
    assert caregiver.status == CaregiverStatus.ACCEPTED and caregiver.accepted_at is not None
    again = anon.post(path)
    assert again.status_code == 200 and "<form" not in again.content.decode()
    assert patient_client.get(URL).json()[0]["status"] == "accepted"


def test_unsubscribe_link_and_one_click_post(anon, patient_client, django_capture_on_commit_callbacks):
    invite(patient_client, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    path = link(message, "unsubscribe")
    assert message.extra_headers["List-Unsubscribe"] == f"<https://meditrack.example{path}>"
    assert anon.get(path).status_code == 200
    assert Caregiver.objects.get().status == CaregiverStatus.INVITED
    # RFC 8058: the mail client POSTs this form body to the header's URL.
    response = anon.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "Unsubscribed" in response.content.decode()
    assert Caregiver.objects.get().status == CaregiverStatus.UNSUBSCRIBED


def test_bad_expired_and_gone_links_are_pages(anon, patient, monkeypatch):
    caregiver = Caregiver.objects.create(patient=patient, email="a@example.test", name="A")
    token = services.CAREGIVER_ACCEPT_LINK.token(caregiver.pk)
    wrong_purpose = services.CAREGIVER_UNSUBSCRIBE_LINK.token(caregiver.pk)
    forged = signing.dumps({"c": caregiver.pk}, salt="another-salt")
    for bad in (token[:-2] + "xx", forged, wrong_purpose, "nonsense"):
        assert anon.post(f"{URL}accept/{bad}/").status_code == 400
    import time

    real_time = time.time()
    monkeypatch.setattr(time, "time", lambda: real_time + 7 * 24 * 3600 + 1)
    assert anon.post(f"{URL}accept/{token}/").status_code == 403
    monkeypatch.undo()
    # The unsubscribe link never expires.
    unsubscribe = services.CAREGIVER_UNSUBSCRIBE_LINK.token(caregiver.pk)
    monkeypatch.setattr(time, "time", lambda: real_time + 365 * 24 * 3600)
    assert anon.get(f"{URL}unsubscribe/{unsubscribe}/").status_code == 200
    monkeypatch.undo()
    caregiver.refresh_from_db()
    assert caregiver.status == CaregiverStatus.INVITED
    caregiver.delete()
    assert anon.post(f"{URL}accept/{token}/").status_code == 404


def test_doctor_alerts_unsubscribe(anon, doctor):
    patient = PatientFactory(assigned_doctor=doctor, notify_doctor_on_missed=True)
    path = services.doctor_alerts_unsubscribe_url(patient.pk).replace("https://meditrack.example", "")
    assert anon.get(path).status_code == 200
    patient.refresh_from_db()
    assert patient.notify_doctor_on_missed
    assert anon.post(path).status_code == 200
    patient.refresh_from_db()
    assert not patient.notify_doctor_on_missed


def test_profile_settings_default_off_and_can_be_set(patient_client):
    profile = patient_client.get("/api/auth/profile/").json()
    assert profile["share_medication_names"] is False and profile["notify_doctor_on_missed"] is False
    changed = patient_client.patch(
        "/api/auth/profile/", {"share_medication_names": True, "notify_doctor_on_missed": True}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["share_medication_names"] is True and changed.json()["notify_doctor_on_missed"] is True
