"""Domain events of the medications app: plain Django signals that higher apps (notifications)
connect to. Each is sent after the change commits (``send_on_commit``); a receiver's failure is
logged and never undoes or fails the change.

- ``dose_due(sender, reminder_ids)``: the sweep sent the reminders of these due doses (one signal
  per claimed batch, so a receiver reads and publishes a batch at a time).
- ``dose_updated(sender, reminder_id, patient_id)``: a dose was answered (API, email link) or logged.
- ``stock_low(sender, medication_id, patient_id)``: a medication's supply fell to its refill threshold.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

dose_due = Signal()
dose_updated = Signal()
stock_low = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs: object) -> None:
    """Send ``signal`` once the current transaction commits (at once outside a transaction)."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.warning("receiver %s of an event failed", receiver, exc_info=result)

    transaction.on_commit(send)
