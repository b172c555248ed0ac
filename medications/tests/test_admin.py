"""Admin pages for medications and reminders load, filter, and keep the schedule column true."""

import pytest

from medications.models import Medication
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


def post_change(client, medication, **fields):
    """The change form as the admin page sends it: every field, ``fields`` overriding."""
    data = {
        "patient": medication.patient_id,
        "name": medication.name,
        "dosage": medication.dosage,
        "frequency": "once_daily",
        "custom_schedule": "[]",
        "start_date": medication.start_date.isoformat(),
        "notes": "",
        "is_active": "on",
        "every_n_days": "1",
        "dose_quantity": "1",
        "dose_unit": "dose",
        "days_of_week": "null",
        "taper": "null",
        "refill_threshold_days": "7",
        **fields,
    }
    return client.post(f"/admin/medications/medication/{medication.pk}/change/", data)


def test_changelists_with_filters(admin_client):
    reminder = ReminderFactory(status="taken")
    ReminderFactory(status="missed")
    assert admin_client.get("/admin/medications/medication/?frequency=once_daily&is_active__exact=1").status_code == 200
    response = admin_client.get(f"/admin/medications/reminder/?status__exact=taken&medication={reminder.medication_id}")
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [reminder]
    titles = [spec.title for spec in response.context["cl"].filter_specs]
    assert titles == ["status", "kind", "medication", "scheduled for"]


def test_admin_edit_recomputes_next_dose(admin_client):
    medication = MedicationFactory(frequency="as_needed")
    assert medication.next_dose_at is None
    response = post_change(admin_client, medication)
    assert response.status_code == 302, response.content[:2000]
    assert Medication.objects.get().next_dose_at is not None


def test_admin_refuses_a_regimen_the_api_refuses(admin_client):
    medication = MedicationFactory()
    response = post_change(admin_client, medication, days_of_week='["mon"]', every_n_days="2")
    assert response.status_code == 200  # the form again, with the errors
    errors = response.context["adminform"].form.errors
    assert "days_of_week" in errors and "every_n_days" in errors
    medication.refresh_from_db()
    assert medication.days_of_week is None and medication.every_n_days == 1


def test_admin_saves_a_weekly_regimen(admin_client):
    medication = MedicationFactory()
    response = post_change(admin_client, medication, days_of_week='["sun", "mon"]', dose_quantity="0.5")
    assert response.status_code == 302, response.content[:2000]
    medication.refresh_from_db()
    assert medication.days_of_week == ["mon", "sun"] and str(medication.dose_quantity) == "0.500"
