"""The reads that span medications, symptoms and moods: the dashboard, the doctor's patient
overview, the PDF report's data and the weekly digest's. Each composes the selectors of the apps
it reads; a fixed number of queries whatever the amount of data."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from medications.models import Medication
from medications.selectors import adherence_summary, medications_current
from symptoms import selectors as symptoms

REPORT_SYMPTOM_LIMIT = 500


def current_medications(*, patient: User) -> QuerySet[Medication]:
    """The patient's current medications (the medications app's rule), by name."""
    return medications_current(user=patient, patient=patient).order_by("name", "id")


def dashboard(*, patient: User, days: int) -> dict[str, Any]:
    """The Chart.js dashboard. Four queries whatever the amount of data."""
    start, end = patient.local_days(days)
    trend = symptoms.symptom_daily_severity(patient=patient, start=start, end=end)
    common = symptoms.common_symptoms(patient=patient, start=start, end=end)
    week_start, _ = patient.local_days(7)
    totals = symptoms.symptom_counts(patient=patient, since=week_start, end=end)
    return {
        "symptom_trends": {
            "labels": [day["date"].isoformat() for day in trend],
            "datasets": [
                {
                    "label": "Average Severity",
                    "data": [day["average"] for day in trend],
                    "borderColor": "#dc3545",
                    "backgroundColor": "rgba(220, 53, 69, 0.2)",
                    "tension": 0.3,
                    "spanGaps": True,
                },
                {
                    "label": "Symptom Count",
                    "data": [day["count"] for day in trend],
                    "borderColor": "#0d6efd",
                    "backgroundColor": "rgba(13, 110, 253, 0.2)",
                    "tension": 0.3,
                },
            ],
        },
        "common_symptoms": {
            "labels": [row["name"] for row in common],
            "datasets": [
                {
                    "label": "Frequency",
                    "data": [row["count"] for row in common],
                    "backgroundColor": "rgba(13, 110, 253, 0.6)",
                }
            ],
        },
        "stats": {
            "active_medications": current_medications(patient=patient).count(),
            "total_symptoms_logged": totals["total"],
            "symptoms_last_7_days": totals["in_window"],
        },
    }


def patient_overview(*, patient: User) -> dict[str, Any]:
    """What an assigned doctor sees first: profile, current medications, the last 20 symptoms,
    the last 30 moods and 30 days of adherence."""
    return {
        "patient": patient,
        "medications": list(current_medications(patient=patient)),
        "recent_symptoms": list(symptoms.recent_symptoms(patient=patient)),
        "recent_moods": list(symptoms.recent_moods(patient=patient)),
        "adherence": adherence_summary(patient=patient, days=30),
    }


def report_data(*, patient: User, days: int) -> dict[str, Any]:
    """Everything the PDF health report shows, as plain data."""
    start, end = patient.local_days(days)
    summary = symptoms.symptom_summary(patient=patient, window=(start, end))
    return {
        "patient": patient,
        "start": start,
        "end": end,
        "days": days,
        "medications": list(current_medications(patient=patient).values("name", "dosage", "frequency", "start_date")),
        "adherence": adherence_summary(patient=patient, days=days),
        "symptoms": symptoms.symptom_log(patient=patient, start=start, end=end, limit=REPORT_SYMPTOM_LIMIT),
        "symptom_total": sum(row["count"] for row in summary),
        "summary": summary,
        "daily_severity": symptoms.symptom_daily_severity(patient=patient, start=start, end=end),
        "mood": symptoms.mood_stats(patient=patient, start=start, end=end),
    }


def digest_context(*, patient: User, week_of: datetime.date) -> dict[str, Any]:
    """The past seven local days up to ``week_of``: symptoms, mood, adherence."""
    start, end = patient.local_days(7, end=week_of)
    summary = symptoms.symptom_summary(patient=patient, window=(start, end))
    mood = symptoms.mood_stats(patient=patient, start=start, end=end)
    adherence = adherence_summary(patient=patient, days=7)
    return {
        "name": patient.display_name,
        "start": start,
        "end": end,
        "symptoms": summary,
        "symptom_total": sum(row["count"] for row in summary),
        "mood_average": mood["average"],
        "mood_logged_days": mood["logged_days"],
        "adherence_rate": adherence["adherence_rate"],
        "doses_taken": adherence["taken_reminders"],
        "doses_total": adherence["total_reminders"],
    }
