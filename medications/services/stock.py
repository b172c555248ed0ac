"""Stock and refills: what a taken dose takes off, what a correction puts back, refills, and the
one "refill soon" email per refill cycle.

Every movement is a conditional UPDATE with ``F()`` (never read-modify-write), tied to the dose's
own row: a dose takes its quantity off only when its ``stock_taken`` is still null (and records
the quantity there), and a correction to "skipped" puts back exactly ``stock_taken``, once, by
clearing it with a compare-and-swap. Both run inside the transaction of the status change, which
is itself conditional (``status <> 'taken'`` / ``status = 'taken'``), so concurrent answers on
PostgreSQL neither lose nor double a decrement. Stock never goes below 0.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import DecimalField, F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.readcache import data_changed
from core.mail import send_claimed_email
from medications.events import send_on_commit, stock_low
from medications.models import Frequency, Medication, Reminder
from medications.schedule import Regimen, doses, plain_number

logger = logging.getLogger(__name__)

TEMPLATE = "medications/email/refill_soon"
SUPPLY_HORIZON = datetime.timedelta(days=366)  # a supply that outlasts this is "not running out"
_ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=11, decimal_places=3))


def quantity_for(medication: Medication, at: datetime.datetime, *, tz: ZoneInfo) -> Decimal:
    """The dose quantity of ``medication`` for a dose at ``at`` (its taper step that local day
    in the patient's zone ``tz``)."""
    return Regimen.of(medication).quantity_on(at.astimezone(tz).date())


def supply(medication: Medication, *, now: datetime.datetime | None = None) -> tuple[int | None, datetime.date | None]:
    """``(days_of_supply, runs_out_on)``: the local date of the first coming dose the stock cannot
    cover, and how many days from today that is. ``(None, None)`` when the stock is not tracked,
    the medication is as needed or inactive, or the stock outlasts the schedule (or a year)."""
    if medication.stock_quantity is None or medication.frequency == Frequency.AS_NEEDED or not medication.is_active:
        return None, None
    now = now or timezone.now()
    tz = medication.owner_tzinfo
    today = now.astimezone(tz).date()
    left = Decimal(medication.stock_quantity)
    for dose in doses(Regimen.of(medication), tz=tz, after=now, until=now + SUPPLY_HORIZON):
        left -= dose.quantity
        if left < 0:
            return (dose.local_date - today).days, dose.local_date
    return None, None


def enqueue_check(medication_id: int) -> None:
    from medications.tasks import check_stock  # tasks call services, not the reverse, at import

    try:
        check_stock.apply_async(args=(medication_id,))
    except Exception:  # broker down: the next stock movement checks again
        logger.warning("could not enqueue the stock check of medication %s", medication_id, exc_info=True)


def stock_take(*, reminder_id: int, medication_id: int, quantity: Decimal) -> bool:
    """Take ``quantity`` off for a dose that was just marked taken (call inside its transaction).
    True when stock moved; nothing happens twice for one dose, or for an untracked stock."""
    if not Reminder.objects.filter(pk=reminder_id, stock_taken__isnull=True).update(stock_taken=quantity):
        return False
    moved = Medication.objects.filter(pk=medication_id, stock_quantity__isnull=False).update(
        stock_quantity=Greatest(F("stock_quantity") - quantity, _ZERO)
    )
    if not moved:  # not tracked: nothing to put back later
        Reminder.objects.filter(pk=reminder_id).update(stock_taken=None)
        return False
    transaction.on_commit(lambda: enqueue_check(medication_id))
    return True


def stock_put_back(*, reminder_id: int, medication_id: int) -> bool:
    """Put back what this dose took off (a correction from taken to skipped), once."""
    taken = Reminder.objects.filter(pk=reminder_id).values_list("stock_taken", flat=True).first()
    if taken is None:
        return False
    if not Reminder.objects.filter(pk=reminder_id, stock_taken=taken).update(stock_taken=None):
        return False  # a concurrent correction put it back already
    Medication.objects.filter(pk=medication_id, stock_quantity__isnull=False).update(
        stock_quantity=F("stock_quantity") + taken
    )
    return True


def medication_refill(*, medication: Medication, quantity: Decimal) -> Medication:
    """Add ``quantity`` to the stock (starting to track it if it was not) and open a new refill
    cycle: the next time the supply falls to the threshold, one more "refill soon" email."""
    if quantity <= 0:
        raise ValueError("a refill adds a positive quantity")
    with transaction.atomic():
        Medication.objects.filter(pk=medication.pk).update(
            stock_quantity=Coalesce(F("stock_quantity"), _ZERO) + quantity, refill_notified_at=None
        )
        data_changed(medication.patient_id)
        transaction.on_commit(lambda: enqueue_check(medication.pk))
    medication.refresh_from_db(fields=["stock_quantity", "refill_notified_at", "updated_at"])
    return medication


def stock_check(*, medication_id: int, now: datetime.datetime | None = None) -> str:
    """When the supply has fallen to the threshold: one "refill soon" email and one ``stock_low``
    event per refill cycle (a conditional claim on ``refill_notified_at``). A transient SMTP
    failure gives the claim back and raises ``EmailDeliveryError`` (the task retries)."""
    now = now or timezone.now()
    medication = Medication.objects.select_related("patient").filter(pk=medication_id).first()
    if medication is None or medication.refill_notified_at is not None:
        return "noop"
    days, runs_out_on = supply(medication, now=now)
    if days is None or days > medication.refill_threshold_days:
        return "enough"
    with transaction.atomic():
        if not Medication.objects.filter(pk=medication_id, refill_notified_at__isnull=True).update(
            refill_notified_at=now
        ):
            return "noop"
        send_on_commit(stock_low, sender=Medication, medication_id=medication_id, patient_id=medication.patient_id)
    patient = medication.patient
    if not (patient.is_patient and patient.is_active and patient.email and patient.email_reminders_enabled):
        return "low"
    context = {
        "patient_name": patient.first_name or patient.username,
        "medication_name": medication.name,
        "dosage": medication.dosage,
        "stock": plain_number(medication.stock_quantity),
        "unit": medication.dose_unit,
        "days": days,
        "runs_out_on": runs_out_on.isoformat(),
    }
    return send_claimed_email(
        to=patient.email,
        subject=f"Refill soon: {medication.name} runs out on {context['runs_out_on']}",
        template=TEMPLATE,
        context=context,
        label=f"refill of medication {medication_id}",
        give_back=lambda: Medication.objects.filter(pk=medication_id, refill_notified_at=now).update(
            refill_notified_at=None
        ),
    )
