"""Missed-dose alerts: caregivers who accepted (and the doctor, with ``notify_doctor_on_missed``)
get one email per sweep listing a patient's newly missed doses.

Exactly once per dose: ``close_unanswered`` flags a dose ``alert_due`` in the same UPDATE that
makes it missed, only when someone is to be told; a sweep claims flagged rows with a conditional
UPDATE (``alert_due = true`` → false, writing its own token; PostgreSQL re-checks the flag after
waiting for a concurrent claimer) and reports only the rows carrying its token.

Nothing is lost to a passing SMTP outage, and nobody is told twice: when no recipient of a
patient could be reached for a transient reason (the server down or dropping the connection),
that patient's doses are flagged again (claim undone) and the next sweep tries again, for up to
``RETRY_HOURS`` after the dose. When one recipient got the email and another's failed, the
failure is logged and not retried (a retry would repeat the alert to the one who got it); a
refused address is not retried.

Only doses that went unanswered for 4 hours after a reminder was due are reported; doses
recorded missed while catching up after an outage are not (the patient was never reminded).
Medication names appear only when the patient set ``share_medication_names``.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When

from accounts import selectors as account_selectors
from accounts.models import Caregiver, CaregiverStatus, User
from accounts.services import caregiver_unsubscribe_url, doctor_alerts_unsubscribe_url
from core.mail import EmailDeliveryError, open_connection, send_templated_email, unsubscribe_headers
from medications.models import Reminder

logger = logging.getLogger(__name__)

TEMPLATE = "medications/email/missed_alert"
PATIENT_BATCH = 200
MAX_BATCHES = 10_000
RETRY_HOURS = 24  # an alert still undelivered this long after its dose is dropped


def someone_to_tell() -> Case:
    """For an UPDATE of reminders: true when the row's patient has an accepted caregiver or a
    verified doctor who asked for alerts (``notify_doctor_on_missed``)."""
    caregivers = Caregiver.objects.filter(patient_id=OuterRef("patient_id"), status=CaregiverStatus.ACCEPTED)
    doctor = User.objects.filter(
        pk=OuterRef("patient_id"),
        notify_doctor_on_missed=True,
        assigned_doctor__is_verified_doctor=True,
        assigned_doctor__is_active=True,
    )
    return Case(
        When(Q(Exists(caregivers)) | Q(Exists(doctor)), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    unsubscribe_url: str


def _recipients(patients: dict[int, User]) -> dict[int, list[Recipient]]:
    """Accepted caregivers and opted-in doctors of these patients (two queries)."""
    found: dict[int, list[Recipient]] = defaultdict(list)
    for caregiver in account_selectors.accepted_caregivers(patient_ids=list(patients)).only(
        "id", "patient_id", "email", "name"
    ):
        found[caregiver.patient_id].append(
            Recipient(caregiver.email, caregiver.name, caregiver_unsubscribe_url(caregiver.pk))
        )
    for patient in patients.values():
        doctor = patient.reading_doctor
        if patient.notify_doctor_on_missed and doctor is not None and doctor.email:
            found[patient.pk].append(
                Recipient(doctor.email, doctor.display_name, doctor_alerts_unsubscribe_url(patient.pk))
            )
    return found


def alert_email_parts(*, patient: User, doses: list[Reminder], recipient: Recipient) -> tuple[str, dict]:
    """Subject and template context of one alert (``doses`` need ``medication`` loaded)."""
    tz = patient.tzinfo
    lines = []
    for dose in sorted(doses, key=lambda d: (d.scheduled_for, d.pk)):
        local = dose.scheduled_for.astimezone(tz)
        what = f"{dose.medication.name} {dose.medication.dosage}" if patient.share_medication_names else "A dose"
        lines.append({"what": what, "local_time": local.strftime("%H:%M"), "local_date": local.date().isoformat()})
    patient_name = patient.display_name
    count = len(lines)
    subject = f"{patient_name} missed {count} medication dose{'s' if count != 1 else ''}"
    context = {
        "recipient_name": recipient.name,
        "patient_name": patient_name,
        "doses": lines,
        "timezone_name": patient.timezone,
        "unsubscribe_url": recipient.unsubscribe_url,
    }
    return subject, context


def report_missed(*, now: datetime.datetime) -> int:
    """Claim the flagged missed doses, patient by patient, and email each recipient once per
    patient. Returns the number of emails sent."""
    sent = 0
    for _ in range(MAX_BATCHES):
        patient_ids = list(
            Reminder.objects.filter(alert_due=True)
            .order_by()
            .values_list("patient_id", flat=True)
            .distinct()[:PATIENT_BATCH]
        )
        if not patient_ids:
            return sent
        token = uuid.uuid4()
        Reminder.objects.filter(alert_due=True, patient_id__in=patient_ids).update(alert_due=False, alert_claim=token)
        delivered, undelivered = _send_alerts(token)
        sent += delivered
        if undelivered:
            _give_back(token, patient_ids=undelivered, now=now)
        if len(patient_ids) < PATIENT_BATCH:
            return sent
    return sent


def _give_back(token: uuid.UUID, *, patient_ids: set[int], now: datetime.datetime) -> None:
    """Flag these patients' claimed doses again for the next sweep (within ``RETRY_HOURS``)."""
    Reminder.objects.filter(
        alert_claim=token,
        patient_id__in=patient_ids,
        scheduled_for__gte=now - datetime.timedelta(hours=RETRY_HOURS),
    ).update(alert_due=True, alert_claim=None)


def _send_alerts(token: uuid.UUID) -> tuple[int, set[int]]:
    """Send the alerts of the doses claimed with ``token``: (emails sent, the patients whose
    recipients could not be reached for a transient reason and got nothing)."""
    doses = list(
        Reminder.objects.filter(alert_claim=token)
        .select_related("medication", "patient", "patient__assigned_doctor")
        .order_by("patient_id", "scheduled_for", "id")
    )
    by_patient: dict[int, list[Reminder]] = defaultdict(list)
    patients: dict[int, User] = {}
    for dose in doses:
        by_patient[dose.patient_id].append(dose)
        patients[dose.patient_id] = dose.patient
    recipients = _recipients({pk: p for pk, p in patients.items() if p.is_active and p.is_patient})
    if not recipients:
        return 0, set()
    sent = 0
    undelivered: set[int] = set()
    connection = open_connection()
    try:
        connection.open()
    except Exception:  # SMTP unreachable: the next sweep tries again (see the module docstring)
        logger.warning(
            "SMTP connection failed; missed-dose alerts of %s patients postponed", len(recipients), exc_info=True
        )
        return 0, set(recipients)
    try:
        for patient_id, people in recipients.items():
            reached = transient = 0
            for recipient in people:
                subject, context = alert_email_parts(
                    patient=patients[patient_id], doses=by_patient[patient_id], recipient=recipient
                )
                try:
                    send_templated_email(
                        to=recipient.email,
                        subject=subject,
                        template=TEMPLATE,
                        context=context,
                        connection=connection,
                        headers=unsubscribe_headers(recipient.unsubscribe_url),
                    )
                except EmailDeliveryError as exc:
                    logger.warning(
                        "missed-dose alert for patient %s failed (%s, permanent=%s)", patient_id, exc, exc.permanent
                    )
                    transient += not exc.permanent
                else:
                    reached += 1
            sent += reached
            if transient and not reached:
                undelivered.add(patient_id)
    finally:
        connection.close()
    return sent, undelivered
