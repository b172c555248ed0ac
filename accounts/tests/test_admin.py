"""The admin as an operator meets it: named MediTrack, zones as choices, admins not patients,
dose times in the patient's zone next to UTC."""

import datetime

import pytest

from accounts.models import AccountDeletion, DataAccessLog
from accounts.tests.factories import DoctorFactory, PatientFactory
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


def test_the_site_is_named_meditrack(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "MediTrack administration" in html
    assert "Django administration" not in html


def test_the_time_zone_is_a_choice_of_real_zones(admin_client):
    patient = PatientFactory(timezone="Europe/Lisbon")
    response = admin_client.get(f"/admin/accounts/user/{patient.pk}/change/")
    field = response.context["adminform"].form.fields["timezone"]
    choices = [value for value, _label in field.choices]
    assert "Europe/Lisbon" in choices and "Asia/Kolkata" in choices and "Mars/Olympus" not in choices
    assert '<select name="timezone"' in response.content.decode()


def test_a_superuser_is_listed_as_administrator_without_an_unverified_doctor_cross(admin_client, admin_user):
    DoctorFactory(username="dr-unverified", is_verified_doctor=False)
    response = admin_client.get("/admin/accounts/user/")
    rows = response.content.decode().split("<tbody>")[1].split("</tbody>")[0].split("<tr")
    admin_row = next(row for row in rows if f">{admin_user.username}</a>" in row)
    doctor_row = next(row for row in rows if ">dr-unverified</a>" in row)
    assert "Administrator" in admin_row and "Patient" not in admin_row
    assert "icon-no" not in admin_row  # no red cross: the question does not arise for an admin
    assert "icon-no" in doctor_row  # an unverified doctor still shows one


def test_dose_times_show_the_patients_zone_next_to_utc(admin_client):
    patient = PatientFactory(timezone="Asia/Kolkata")
    at = datetime.datetime(2026, 11, 23, 2, 30, tzinfo=datetime.UTC)  # 08:00 in Kolkata
    ReminderFactory(medication=MedicationFactory(patient=patient), scheduled_for=at)
    html = admin_client.get("/admin/medications/reminder/").content.decode()
    assert "2026-11-23 08:00 Asia/Kolkata (2026-11-23 02:30 UTC)" in html


@pytest.mark.parametrize("model", ["dataaccesslog", "accountdeletion"])
def test_the_audit_records_are_read_only(admin_client, model):
    patient = PatientFactory()
    record = (
        DataAccessLog.objects.create(doctor=None, doctor_name="Dr", patient=patient, resource="symptoms")
        if model == "dataaccesslog"
        else AccountDeletion.objects.create(user_id=patient.pk + 1000, role="patient")
    )
    base = f"/admin/accounts/{model}/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    page = admin_client.get(f"{base}{record.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # view only
    assert admin_client.post(f"{base}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()
