"""Dose-time arithmetic across zones and both 2026 daylight-saving changes."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from medications.schedule import Regimen, doses, next_dose, parse_hhmm, resolve_local

UTC = datetime.UTC
NY = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def t(value: str) -> datetime.time:
    return parse_hhmm(value)


def doses_between(*, times, tz, start_date, end_date, after, until=None):
    """Daily dose instants of ``times`` (the plain regimen)."""
    regimen = Regimen(times=tuple(times), start_date=start_date, end_date=end_date)
    return [dose.at for dose in doses(regimen, tz=tz, after=after, until=until)]


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        ("UTC", datetime.date(2026, 6, 1), "08:00", utc(2026, 6, 1, 8, 0)),
        ("Asia/Kolkata", datetime.date(2026, 6, 1), "08:00", utc(2026, 6, 1, 2, 30)),  # +05:30
        ("Asia/Kolkata", datetime.date(2026, 6, 1), "00:15", utc(2026, 5, 31, 18, 45)),  # previous UTC day
        ("America/New_York", datetime.date(2026, 1, 15), "08:00", utc(2026, 1, 15, 13, 0)),  # EST
        ("America/New_York", datetime.date(2026, 7, 15), "08:00", utc(2026, 7, 15, 12, 0)),  # EDT
        ("Europe/London", datetime.date(2026, 1, 15), "08:00", utc(2026, 1, 15, 8, 0)),  # GMT
        ("Europe/London", datetime.date(2026, 7, 15), "08:00", utc(2026, 7, 15, 7, 0)),  # BST
    ],
)
def test_resolve_local_plain_days(zone, day, at, expected):
    assert resolve_local(day, t(at), ZoneInfo(zone)) == expected


def test_new_york_spring_forward_gap_fires_at_first_valid_minute():
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist → 03:00 EDT (07:00 UTC).
    assert resolve_local(datetime.date(2026, 3, 8), t("02:30"), NY) == utc(2026, 3, 8, 7, 0)
    assert resolve_local(datetime.date(2026, 3, 8), t("02:00"), NY) == utc(2026, 3, 8, 7, 0)
    assert resolve_local(datetime.date(2026, 3, 8), t("03:00"), NY) == utc(2026, 3, 8, 7, 0)
    assert resolve_local(datetime.date(2026, 3, 8), t("01:59"), NY) == utc(2026, 3, 8, 6, 59)  # EST still


def test_new_york_fall_back_overlap_fires_once_at_first_occurrence():
    # 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice. First: 05:30 UTC (EDT).
    assert resolve_local(datetime.date(2026, 11, 1), t("01:30"), NY) == utc(2026, 11, 1, 5, 30)
    doses = list(
        doses_between(
            times=[t("01:30")],
            tz=NY,
            start_date=datetime.date(2026, 1, 1),
            end_date=None,
            after=utc(2026, 10, 31, 12, 0),
            until=utc(2026, 11, 2, 12, 0),
        )
    )
    assert doses == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_london_both_changes():
    # 2026-03-29 01:00 GMT → 02:00 BST: 01:30 does not exist → 02:00 BST = 01:00 UTC.
    assert resolve_local(datetime.date(2026, 3, 29), t("01:30"), LONDON) == utc(2026, 3, 29, 1, 0)
    # 2026-10-25 02:00 BST → 01:00 GMT: 01:30 twice; the first is BST (00:30 UTC).
    assert resolve_local(datetime.date(2026, 10, 25), t("01:30"), LONDON) == utc(2026, 10, 25, 0, 30)


def test_gap_times_collapsing_onto_one_instant_fire_once():
    doses = list(
        doses_between(
            times=[t("02:00"), t("02:30"), t("03:00"), t("09:00")],
            tz=NY,
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 3, 8),
            after=utc(2026, 3, 8, 0, 0),
        )
    )
    assert doses == [utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 13, 0)]  # 03:00 EDT once, 09:00 EDT


def test_daily_sequence_across_spring_forward_keeps_local_time():
    doses = list(
        doses_between(
            times=[t("08:00")],
            tz=NY,
            start_date=datetime.date(2026, 3, 1),
            end_date=None,
            after=utc(2026, 3, 6, 14, 0),
            until=utc(2026, 3, 10, 0, 0),
        )
    )
    assert doses == [utc(2026, 3, 7, 13, 0), utc(2026, 3, 8, 12, 0), utc(2026, 3, 9, 12, 0)]
    assert all(dose.astimezone(NY).strftime("%H:%M") == "08:00" for dose in doses)


def test_next_dose_respects_start_and_end_dates():
    start = datetime.date(2026, 6, 10)
    times = [t("08:00"), t("20:00")]
    # Before the start date: the first dose is on the start date.
    assert next_dose(times=times, tz=KOLKATA, start_date=start, end_date=None, after=utc(2026, 6, 1)) == utc(
        2026, 6, 10, 2, 30
    )
    # After the last dose of the end date: nothing.
    assert next_dose(times=times, tz=KOLKATA, start_date=start, end_date=start, after=utc(2026, 6, 10, 14, 30)) is None
    # Strictly after: a dose exactly at `after` is not "next".
    assert next_dose(times=times, tz=UTC, start_date=start, end_date=None, after=utc(2026, 6, 10, 8, 0)) == utc(
        2026, 6, 10, 20, 0
    )


def test_no_times_no_doses():
    assert (
        next_dose(times=[], tz=UTC, start_date=datetime.date(2026, 1, 1), end_date=None, after=utc(2026, 1, 1)) is None
    )


@pytest.mark.parametrize("bad", ["8:00", "24:00", "12:60", "aa:bb", "", "08:00:00"])
def test_parse_hhmm_rejects(bad):
    with pytest.raises(ValueError):
        parse_hhmm(bad)
