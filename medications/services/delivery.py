"""Composing and sending one reminder email (through ``core.mail``, the only email adapter)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from core.mail import send_templated_email
from medications.models import Reminder
from medications.services.doses import confirm_token

TEMPLATE = "medications/email/reminder"


def confirm_url(reminder_id: int) -> str:
    return f"{settings.PUBLIC_URL}/api/medications/reminders/confirm/{confirm_token(reminder_id)}/"


def reminder_email_parts(reminder: Reminder) -> tuple[str, dict]:
    """Subject and template context. Needs ``reminder.medication`` and ``reminder.patient``."""
    patient = reminder.patient
    medication = reminder.medication
    local = reminder.scheduled_for.astimezone(patient.tzinfo)
    context = {
        "patient_name": patient.first_name or patient.username,
        "medication_name": medication.name,
        "dosage": medication.dosage,
        "local_time": local.strftime("%H:%M"),
        "local_date": local.date().isoformat(),
        "timezone_name": patient.timezone,
        "confirm_url": confirm_url(reminder.pk),
        "valid_hours": 24,
    }
    subject = f"Reminder: {medication.name} {medication.dosage} at {context['local_time']}"
    return subject, context


def send_reminder_email(reminder: Reminder, *, connection: BaseEmailBackend | None = None) -> None:
    """Send one reminder; raises ``core.mail.EmailDeliveryError`` (``permanent`` or not)."""
    subject, context = reminder_email_parts(reminder)
    send_templated_email(
        to=reminder.patient.email, subject=subject, template=TEMPLATE, context=context, connection=connection
    )
