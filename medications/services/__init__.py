"""Write use cases of the medications app (views, tasks and commands call these)."""

from medications.services.doses import (
    CONFIRM_LINK,
    answer_refusal,
    confirm_token,
    dose_log,
    reminder_answer,
)
from medications.services.medications import (
    compute_next_dose,
    medication_create,
    medication_delete,
    medication_update,
    medications_reschedule_for_patient,
)
from medications.services.sweep import SweepResult, reminder_retry_delivery, sweep

__all__ = [
    "CONFIRM_LINK",
    "SweepResult",
    "answer_refusal",
    "compute_next_dose",
    "confirm_token",
    "dose_log",
    "medication_create",
    "medication_delete",
    "medication_update",
    "medications_reschedule_for_patient",
    "reminder_answer",
    "reminder_retry_delivery",
    "sweep",
]
