"""The built-in analysis on crafted data."""

from __future__ import annotations

import datetime

import pytest

from symptoms.insights import analysis, narrative
from symptoms.insights.tests.factories import MedicationFactory, MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db


def _days_ago(patient, n: int) -> datetime.date:
    return patient.local_today() - datetime.timedelta(days=n)


def _analyse(patient, days: int):
    facts = analysis.collect_facts(patient, analysis.window_for(patient, days))
    return facts, narrative.describe(facts)


def test_symptom_that_worsens_after_a_medication_starts_is_reported(patient):
    med = MedicationFactory(patient=patient, name="Examplol", start_date=_days_ago(patient, 6))
    for n in range(13, 6, -1):  # the 7 days before the start: mild headaches
        SymptomFactory(patient=patient, name="Headache", severity=3, date=_days_ago(patient, n))
    for n in range(6, -1, -1):  # from the start: worse headaches
        SymptomFactory(patient=patient, name="headache", severity=7, date=_days_ago(patient, n))
    for n in range(0, 14, 2):  # a steady symptom that must not be blamed on the medication
        SymptomFactory(patient=patient, name="Nausea", severity=4, date=_days_ago(patient, n))

    facts, described = _analyse(patient, 14)

    (corr,) = described["medication_correlations"]
    assert corr["medication"] == "Examplol"
    assert corr["started_on"] == med.start_date.isoformat()
    assert corr["worsened_symptoms"] == ["Headache"]
    assert corr["avg_severity_before"] < corr["avg_severity_after"]
    assert "Headache got worse after Examplol was started (average 3.0 → 7.0)" in corr["observation"]
    assert any("after starting Examplol" in r and "doctor" in r for r in described["recommendations"])
    assert "more severe after Examplol" in described["insight"]
    # Names are grouped case-insensitively: one Headache row with all 14 entries.
    assert facts["top"][0]["name"].lower() == "headache"
    assert facts["top"][0]["count"] == 14
    assert described["symptom_count"] == 21


def test_medication_that_helps_is_not_flagged(patient):
    MedicationFactory(patient=patient, name="Calmix", start_date=_days_ago(patient, 5))
    for n in range(10, 5, -1):
        SymptomFactory(patient=patient, name="Back pain", severity=7, date=_days_ago(patient, n))
    for n in range(5, -1, -1):
        SymptomFactory(patient=patient, name="Back pain", severity=3, date=_days_ago(patient, n))

    _, described = _analyse(patient, 30)

    (corr,) = described["medication_correlations"]
    assert corr["worsened_symptoms"] == []
    assert "Back pain eased after Calmix was started" in corr["observation"]
    assert not any("Calmix" in r for r in described["recommendations"])


def test_rising_severity_and_repeated_severe_episodes_recommend_a_doctor(patient):
    for n, severity in [(6, 2), (5, 3), (4, 3), (2, 8), (1, 9), (0, 8)]:
        SymptomFactory(patient=patient, name="Chest tightness", severity=severity, date=_days_ago(patient, n))

    facts, described = _analyse(patient, 7)

    assert facts["severe"] == 3
    assert any("getting more severe" in r for r in described["recommendations"])
    assert any("3 severe episodes" in r and "contact your doctor" in r for r in described["recommendations"])
    assert any("rose from" in p for p in described["patterns"])


def test_single_severe_episode_is_a_gentler_recommendation(patient):
    SymptomFactory(patient=patient, severity=9)
    _, described = _analyse(patient, 7)
    assert any("one severe episode" in r for r in described["recommendations"])
    assert not any("severe episodes (severity" in r for r in described["recommendations"])


def test_mood_lower_on_symptom_days(patient):
    for n in range(0, 8):
        has_symptom = n % 2 == 0
        if has_symptom:
            SymptomFactory(patient=patient, name="Migraine", severity=6, date=_days_ago(patient, n))
        MoodFactory(patient=patient, mood=2 if has_symptom else 4, date=_days_ago(patient, n))

    facts, described = _analyse(patient, 10)

    assert facts["mood"]["avg_with_symptoms"] == 2.0
    assert facts["mood"]["avg_without_symptoms"] == 4.0
    assert any("On days with symptoms it averaged 2.0, on symptom-free days 4.0" in p for p in described["patterns"])
    assert any("mood tends to dip" in r for r in described["recommendations"])
    assert any("bad or very bad on 4 days" in r for r in described["recommendations"])


def test_symptoms_linked_to_a_medication(patient):
    med = MedicationFactory(patient=patient, name="Dozol", start_date=_days_ago(patient, 40))
    for _ in range(3):
        SymptomFactory(patient=patient, name="Drowsiness", severity=4).related_medications.add(med)

    _, described = _analyse(patient, 7)

    (corr,) = described["medication_correlations"]
    assert corr["linked_symptoms"] == ["Drowsiness"]
    assert "Symptoms you linked to Dozol: Drowsiness (3×)." in corr["observation"]


def test_no_data_is_still_useful(patient):
    facts, described = _analyse(patient, 7)
    assert facts["count"] == 0
    assert described["insight"].startswith("No symptoms were logged")
    assert described["recommendations"]
    assert described["patterns"] == []


def test_only_the_window_and_only_the_patient_count(patient):
    SymptomFactory(patient=patient, date=_days_ago(patient, 7))  # outside a 7-day window
    SymptomFactory(date=_days_ago(patient, 0))  # another patient
    SymptomFactory(patient=patient, date=_days_ago(patient, 6))
    facts, _ = _analyse(patient, 7)
    assert facts["count"] == 1


def test_window_follows_the_patients_time_zone(patient):
    patient.timezone = "Pacific/Kiritimati"  # UTC+14: often already tomorrow
    window = analysis.window_for(patient, 7)
    assert window.end == patient.local_today()
    assert window.start == window.end - datetime.timedelta(days=6)
    assert window.label == f"{window.start.isoformat()} to {window.end.isoformat()}"


@pytest.mark.parametrize("entries", [1, 30])
def test_query_count_is_fixed_whatever_the_data(patient, django_assert_num_queries, entries):
    meds = [MedicationFactory(patient=patient, start_date=_days_ago(patient, 10 + i)) for i in range(3)]
    for i in range(entries):
        symptom = SymptomFactory(
            patient=patient, name=f"S{i % 7}", severity=1 + i % 10, date=_days_ago(patient, i % 20)
        )
        symptom.related_medications.add(meds[i % 3])
        if i < 20:
            MoodFactory(patient=patient, date=_days_ago(patient, i))
    with django_assert_num_queries(7):  # meds, totals, top, per-med, per-symptom, links, mood
        analysis.collect_facts(patient, analysis.window_for(patient, 30))


def _log(patient, name: str, severity: int, days_ago: list[int]) -> None:
    for n in days_ago:
        SymptomFactory(patient=patient, name=name, severity=severity, date=_days_ago(patient, n))


def _medication_claims(described, name: str) -> list[str]:
    """Every sentence of the headline and the recommendations that names the medication."""
    sentences = [s for s in described["insight"].split(". ") if name in s]
    return sentences + [r for r in described["recommendations"] if name in r]


def test_one_symptom_with_two_entries_does_not_contradict_the_medication_section(patient):
    """The issue's case: "more severe after Amoxicillin was started" in the headline while the
    details said "about the same (4.6 vs 5.5)", raised by one symptom logged once before, once after."""
    MedicationFactory(patient=patient, name="Amoxicillin", start_date=_days_ago(patient, 6))
    _log(patient, "Back pain", 5, [13, 12, 11, 10])
    _log(patient, "Dizziness", 3, [9])
    _log(patient, "Back pain", 5, [5, 4, 3])
    _log(patient, "Dizziness", 7, [2])

    _, described = _analyse(patient, 14)

    (corr,) = described["medication_correlations"]
    assert "about the same before and after starting Amoxicillin" in corr["observation"]
    assert "(4.6 vs 5.5)" in corr["observation"]
    assert corr["worsened_symptoms"] == []
    assert "Dizziness got worse" not in corr["observation"]
    assert _medication_claims(described, "Amoxicillin") == []


def test_too_few_entries_around_a_start_claim_nothing(patient):
    MedicationFactory(patient=patient, name="Sparsol", start_date=_days_ago(patient, 6))
    _log(patient, "Headache", 2, [12, 10])
    _log(patient, "Headache", 9, [4, 1])

    _, described = _analyse(patient, 14)

    (corr,) = described["medication_correlations"]
    assert "Too few entries to compare" in corr["observation"]
    assert "2 before, 2 after" in corr["observation"]
    assert corr["worsened_symptoms"] == []
    assert _medication_claims(described, "Sparsol") == []


def test_headline_names_the_symptom_the_details_show_worsened(patient):
    """Overall about the same, one symptom clearly worse on enough entries: the headline and the
    recommendation say that symptom, as the details do, not "symptoms were more severe"."""
    MedicationFactory(patient=patient, name="Examplol", start_date=_days_ago(patient, 6))
    _log(patient, "Headache", 3, [13, 12, 11])
    _log(patient, "Back pain", 6, [10, 9, 8])
    _log(patient, "Headache", 6, [5, 4, 3])
    _log(patient, "Back pain", 4, [2, 1, 0])

    _, described = _analyse(patient, 14)

    (corr,) = described["medication_correlations"]
    assert "about the same" in corr["observation"]
    assert "Headache got worse after Examplol was started (average 3.0 → 6.0)" in corr["observation"]
    assert corr["worsened_symptoms"] == ["Headache"]
    assert "Headache got worse after Examplol was started" in described["insight"]
    assert "Symptoms were more severe" not in described["insight"]
    (recommendation,) = [r for r in described["recommendations"] if "Examplol" in r]
    assert recommendation.startswith("Headache got worse after starting Examplol")


def test_period_trend_needs_enough_entries_in_each_half(patient):
    _log(patient, "Cough", 2, [6])
    _log(patient, "Cough", 9, [0])

    _, described = _analyse(patient, 7)

    assert "getting more severe" not in described["insight"]
    assert not any("getting more severe" in r for r in described["recommendations"])
    assert not any("rose from" in p for p in described["patterns"])


def test_mood_comparison_needs_enough_days_on_each_side(patient):
    SymptomFactory(patient=patient, severity=5, date=_days_ago(patient, 0))
    MoodFactory(patient=patient, mood=1, date=_days_ago(patient, 0))
    MoodFactory(patient=patient, mood=5, date=_days_ago(patient, 1))

    _, described = _analyse(patient, 7)

    assert "mood tends to be lower" not in described["insight"]
    assert not any("mood tends to dip" in r for r in described["recommendations"])


def test_a_medication_started_before_the_api_date_range_does_not_break_the_analysis(patient):
    """The API refuses a start before 1900-01-01, but the admin can write one: the days before
    year 1 are no dates, so such a medication is left out instead of failing every insight."""
    MedicationFactory(patient=patient, name="Ancient", start_date=datetime.date(1, 1, 2))
    MedicationFactory(patient=patient, name="Recent", start_date=_days_ago(patient, 3))
    SymptomFactory(patient=patient, date=_days_ago(patient, 1))

    facts, described = _analyse(patient, 30)

    assert [med["name"] for med in facts["medications"]] == ["Recent"]
    assert all(c["medication"] != "Ancient" for c in described["medication_correlations"])
