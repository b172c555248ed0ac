"""Write use cases of the medications app (views, tasks and commands call these)."""

from medications.services.calendar import calendar_feed_get_or_issue, calendar_feed_issue
from medications.services.doses import (
    CONFIRM_LINK,
    SNOOZE_LINK,
    SNOOZE_LINK_MINUTES,
    answer_refusal,
    confirm_token,
    dose_log,
    reminder_answer,
    reminder_snooze,
    snooze_refusal,
)
from medications.services.medications import (
    compute_next_dose,
    medication_create,
    medication_delete,
    medication_update,
    medications_reschedule_for_patient,
)
from medications.services.stock import medication_refill, stock_check, supply
from medications.services.sweep import SweepResult, reminder_retry_delivery, sweep

__all__ = [
    "CONFIRM_LINK",
    "SNOOZE_LINK",
    "SNOOZE_LINK_MINUTES",
    "SweepResult",
    "answer_refusal",
    "calendar_feed_get_or_issue",
    "calendar_feed_issue",
    "compute_next_dose",
    "confirm_token",
    "dose_log",
    "medication_create",
    "medication_delete",
    "medication_refill",
    "medication_update",
    "medications_reschedule_for_patient",
    "reminder_answer",
    "reminder_retry_delivery",
    "reminder_snooze",
    "snooze_refusal",
    "stock_check",
    "supply",
    "sweep",
]
