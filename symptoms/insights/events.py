"""Domain events of AI insights (connected to by higher apps, e.g. notifications).

- ``insight_ready(sender, patient_id)``: the insight task stored a new insight for the patient.
"""

from __future__ import annotations

from django.dispatch import Signal

insight_ready = Signal()
