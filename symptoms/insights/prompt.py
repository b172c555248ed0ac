"""The de-identified prompt sent to Gemini.

It carries no direct identifier: no name, username, email, phone or birth date (the age in
whole years at most). Free text (symptom names, notes, medication names) is trimmed, and any
occurrence of the patient's identifiers in it is replaced by ``[redacted]``.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from symptoms.insights.analysis import Window
from symptoms.models import Mood, Symptom

MAX_SYMPTOM_ENTRIES = 150
NOTE_CHARS = 200
NAME_CHARS = 80
REDACTED = "[redacted]"

SYSTEM_INSTRUCTION = (
    "You help a person understand their own symptom diary. Describe patterns you can see in the "
    "data: how often symptoms occur, how severe they are, how severity changes over the period, "
    "how severity changed around the start of each medication, and how mood relates to symptoms. "
    "Observations only: never give a diagnosis, never name a disease as the cause, and never tell "
    "the person to start, stop or change a medication; suggest talking to their doctor or "
    "pharmacist instead. When severe symptoms (8/10 or more) repeat or severity keeps rising, "
    "recommend contacting a doctor; for sudden or alarming symptoms, urgent care. Use plain, "
    "calm language addressed to the person ('you'). Use only the data given; the computed "
    "statistics are exact. Answer in JSON with the requested schema."
)


def age_in_years(birth: datetime.date | None, on: datetime.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _identifiers(patient) -> list[str]:
    values = {patient.first_name, patient.last_name, patient.get_full_name(), patient.username, patient.email}
    if patient.email and "@" in patient.email:
        values.add(patient.email.split("@", 1)[0])
    if patient.phone:
        values.add(patient.phone)
        digits = re.sub(r"\D", "", patient.phone)
        if len(digits) >= 6:
            values.add(digits)
    if patient.date_of_birth:
        dob = patient.date_of_birth
        values.update({dob.isoformat(), f"{dob:%d/%m/%Y}", f"{dob:%m/%d/%Y}", f"{dob:%d.%m.%Y}"})
    # Longest first, so a full name is replaced before its parts.
    return sorted((v.strip() for v in values if v and len(v.strip()) >= 2), key=len, reverse=True)


def make_redactor(patient):
    identifiers = _identifiers(patient)
    if not identifiers:
        return lambda text: text
    pattern = re.compile(
        "|".join(rf"(?<!\w){re.escape(value)}(?!\w)" for value in identifiers),
        re.IGNORECASE,
    )
    return lambda text: pattern.sub(REDACTED, text)


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _statistics(facts: dict[str, Any], clean) -> dict[str, Any]:
    mood = facts["mood"]
    return {
        "symptom_entries": facts["count"],
        "days_with_symptoms": facts["days_logged"],
        "average_severity": facts["avg"],
        "highest_severity": facts["max"],
        "severe_entries_8_or_more": facts["severe"],
        "average_severity_first_half": facts["first_avg"],
        "average_severity_second_half": facts["second_avg"],
        "most_frequent_symptoms": [
            {
                "name": clean(row["name"], NAME_CHARS),
                "count": row["count"],
                "days": row["days"],
                "average_severity": row["avg"],
                "highest_severity": row["max"],
                "average_first_half": row["first_avg"],
                "average_second_half": row["second_avg"],
            }
            for row in facts["top"]
        ],
        "medications": [
            {
                "name": clean(med["name"], NAME_CHARS),
                "dosage": clean(med["dosage"], 40),
                "frequency": med["frequency"],
                "started": med["start_date"].isoformat(),
                "ended": med["end_date"].isoformat() if med["end_date"] else None,
                "active": med["is_active"],
                "average_severity_before_start": med["before_avg"],
                "entries_before_start": med["before_n"],
                "average_severity_after_start": med["after_avg"],
                "entries_after_start": med["after_n"],
                "symptoms_around_start": [
                    {
                        "name": clean(s["name"], NAME_CHARS),
                        "average_before": s["before_avg"],
                        "average_after": s["after_avg"],
                        "entries_before": s["before_n"],
                        "entries_after": s["after_n"],
                    }
                    for s in med["symptom_changes"]
                ],
                "symptoms_linked_by_patient": [
                    {"name": clean(row["name"], NAME_CHARS), "count": row["count"]} for row in med["linked"]
                ],
            }
            for med in facts["medications"]
        ],
        "mood_1_to_5": {
            "days_logged": mood["count"],
            "average": mood["avg"],
            "average_on_days_with_symptoms": mood["avg_with_symptoms"],
            "average_on_symptom_free_days": mood["avg_without_symptoms"],
            "average_on_days_with_severity_6_or_more": mood["avg_high_severity"],
            "average_first_half": mood["first_avg"],
            "average_second_half": mood["second_avg"],
            "bad_or_very_bad_days": mood["low_days"],
        },
    }


def build_prompt(patient, window: Window, facts: dict[str, Any]) -> str:
    """The user prompt for ``patient`` over ``window`` (two queries: symptom entries, moods)."""
    redact = make_redactor(patient)

    def clean(text: str, limit: int) -> str:
        return _trim(redact(text or ""), limit)

    entries = Symptom.objects.filter(patient=patient, date__gte=window.start, date__lte=window.end).order_by(
        "-date", "-logged_at"
    )[:MAX_SYMPTOM_ENTRIES]
    moods = Mood.objects.filter(patient=patient, date__gte=window.start, date__lte=window.end).order_by("date")
    data = {
        "period": {"start": window.start.isoformat(), "end": window.end.isoformat(), "days": window.days},
        "age_years": age_in_years(patient.date_of_birth, window.end),
        "computed_statistics": _statistics(facts, clean),
        "symptom_entries_newest_first": [
            {
                "date": row["date"].isoformat(),
                "symptom": clean(row["name"], NAME_CHARS),
                "severity_1_to_10": row["severity"],
                "note": clean(row["notes"], NOTE_CHARS) or None,
            }
            for row in entries.values("date", "name", "severity", "notes")
        ],
        "mood_entries": [
            {"date": row["date"].isoformat(), "mood_1_to_5": row["mood"]} for row in moods.values("date", "mood")
        ],
    }
    return (
        f"Here is one person's self-logged health diary for {window.label} ({window.days} days), "
        "as JSON. Summarise it, list the patterns you observe, relate symptom severity to each "
        "medication's start date, and give gentle practical recommendations.\n\n"
        + json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
