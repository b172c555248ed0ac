"""The prompt sent to Gemini carries no direct identifier."""

from __future__ import annotations

import datetime
import json

import pytest

from accounts.tests.factories import PatientFactory
from symptoms.insights import analysis
from symptoms.insights.prompt import NOTE_CHARS, REDACTED, age_in_years, build_prompt
from symptoms.insights.tests.factories import MedicationFactory, SymptomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def identifiable():
    return PatientFactory(
        username="zanzibar_q",
        email="quintessa.vandermeer@mailbox.test",
        first_name="Quintessa",
        last_name="Vandermeer",
        phone="+44 20 7946 0958",
        date_of_birth=datetime.date(1980, 2, 29),
    )


def _prompt(patient, days=7):
    window = analysis.window_for(patient, days)
    return build_prompt(patient, window, analysis.collect_facts(patient, window))


def test_prompt_has_no_identifiers_even_when_typed_into_free_text(identifiable):
    p = identifiable
    SymptomFactory(
        patient=p,
        name="Headache",
        notes=f"Quintessa Vandermeer felt it; call +44 20 7946 0958 or {p.email}; born 1980-02-29, user zanzibar_q",
    )
    MedicationFactory(patient=p, name="Vandermeer blend", start_date=p.local_today())

    prompt = _prompt(p)

    lowered = prompt.lower()
    for identifier in [
        "quintessa",
        "vandermeer",
        "zanzibar_q",
        "mailbox.test",
        "7946 0958",
        "442079460958",
        "1980-02-29",
    ]:
        assert identifier.lower() not in lowered, identifier
    assert REDACTED in prompt
    assert "Headache" in prompt


def test_prompt_has_age_in_years_and_trimmed_notes(identifiable):
    SymptomFactory(patient=identifiable, notes="word " * 400)
    prompt = _prompt(identifiable)
    data = json.loads(prompt[prompt.index("{") :])
    assert data["age_years"] == age_in_years(identifiable.date_of_birth, identifiable.local_today())
    assert isinstance(data["age_years"], int)
    (entry,) = data["symptom_entries_newest_first"]
    assert len(entry["note"]) <= NOTE_CHARS
    assert data["computed_statistics"]["symptom_entries"] == 1


def test_age_in_years():
    assert age_in_years(datetime.date(2000, 6, 15), datetime.date(2026, 6, 14)) == 25
    assert age_in_years(datetime.date(2000, 6, 15), datetime.date(2026, 6, 15)) == 26
    assert age_in_years(None, datetime.date(2026, 1, 1)) is None
