"""Admin pages for medications and reminders load, filter, and keep the schedule column true."""

import pytest

from medications.models import Medication
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


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
    response = admin_client.post(
        f"/admin/medications/medication/{medication.pk}/change/",
        {
            "patient": medication.patient_id,
            "name": medication.name,
            "dosage": medication.dosage,
            "frequency": "once_daily",
            "custom_schedule": "[]",
            "start_date": medication.start_date.isoformat(),
            "notes": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Medication.objects.get().next_dose_at is not None
