"""Regimen math as a table: each regimen × five zones, across both 2027 daylight-saving changes.

The dose days and local times of a regimen are the same in every zone (they are local); what
changes is the instant, which must be that local wall-clock time in the patient's zone, except
where the SPEC's DST rules say otherwise (the explicit DST table below).
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from medications.models import Frequency, Medication
from medications.schedule import Regimen, doses, doses_on_days, interval_times, next_dose_after, parse_hhmm

UTC = datetime.UTC
ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham", "Pacific/Kiritimati")
MON = datetime.date(2027, 3, 1)  # a Monday


def D(month: int, day: int) -> datetime.date:
    return datetime.date(2027, month, day)


def regimen(**fields) -> Regimen:
    values = {"frequency": Frequency.ONCE_DAILY, "start_date": MON, "is_active": True, **fields}
    return Regimen.of(Medication(**values))


def days(*dates, at=("08:00",), quantity=1):
    return [(day, time, Decimal(str(quantity))) for day in dates for time in at]


# (id, medication fields, first local day, last local day, expected [(local date, "HH:MM", quantity)])
CASES = [
    ("daily", {}, D(3, 1), D(3, 3), days(D(3, 1), D(3, 2), D(3, 3))),
    ("before start: nothing", {"start_date": D(3, 10)}, D(3, 1), D(3, 9), []),
    ("end date stops", {"end_date": D(3, 2)}, D(3, 1), D(3, 5), days(D(3, 1), D(3, 2))),
    (
        "weekly monday (methotrexate), across the March change",
        {"days_of_week": ["mon"]},
        D(3, 1),
        D(3, 31),
        days(D(3, 1), D(3, 8), D(3, 15), D(3, 22), D(3, 29)),
    ),
    (
        "weekly sunday, both New York changes are Sundays",
        {"days_of_week": ["sun"], "start_date": D(3, 1)},
        D(3, 13),
        D(3, 15),
        days(D(3, 14)),
    ),
    (
        "weekly sunday in November",
        {"days_of_week": ["sun"]},
        D(11, 1),
        D(11, 14),
        days(D(11, 7), D(11, 14)),
    ),
    (
        "mon/wed/fri twice daily",
        {"days_of_week": ["fri", "mon", "wed"], "frequency": Frequency.TWICE_DAILY},
        D(3, 1),
        D(3, 7),
        days(D(3, 1), D(3, 3), D(3, 5), at=("08:00", "20:00")),
    ),
    ("every 3 days", {"every_n_days": 3}, D(3, 1), D(3, 10), days(D(3, 1), D(3, 4), D(3, 7), D(3, 10))),
    (
        "every 3 days, window starting mid-period",
        {"every_n_days": 3},
        D(3, 12),
        D(3, 17),
        days(D(3, 13), D(3, 16)),
    ),
    (
        "21 on / 7 off: the end of the first cycle and the start of the second",
        {"cycle_on_days": 21, "cycle_off_days": 7},
        D(3, 20),
        D(3, 31),
        days(D(3, 20), D(3, 21), D(3, 29), D(3, 30), D(3, 31)),
    ),
    (
        "2 on / 1 off",
        {"cycle_on_days": 2, "cycle_off_days": 1},
        D(3, 1),
        D(3, 7),
        days(D(3, 1), D(3, 2), D(3, 4), D(3, 5), D(3, 7)),
    ),
    (
        "every 8 hours while awake",
        {"frequency": Frequency.INTERVAL, "interval_hours": 8, "interval_start": parse_hhmm("06:00")},
        D(3, 1),
        D(3, 2),
        days(D(3, 1), D(3, 2), at=("06:00", "14:00", "22:00")),
    ),
    (
        "every 5 hours, default 08:00–22:00: 22:00 is off the grid",
        {"frequency": Frequency.INTERVAL, "interval_hours": 5},
        D(3, 1),
        D(3, 1),
        days(D(3, 1), at=("08:00", "13:00", "18:00")),
    ),
    (
        "interval on a weekly day",
        {"frequency": Frequency.INTERVAL, "interval_hours": 12, "days_of_week": ["tue"]},
        D(3, 1),
        D(3, 7),
        days(D(3, 2), at=("08:00", "20:00")),
    ),
    (
        "custom times every other day",
        {"frequency": Frequency.CUSTOM, "custom_schedule": ["07:15", "21:45"], "every_n_days": 2},
        D(3, 1),
        D(3, 4),
        days(D(3, 1), D(3, 3), at=("07:15", "21:45")),
    ),
    (
        "taper (prednisone): 4, then 3 from day 2, then 0.5 from day 4",
        {
            "dose_quantity": Decimal("9"),
            "taper": [
                {"from_day": 0, "dose_quantity": 4.0},
                {"from_day": 2, "dose_quantity": 3.0},
                {"from_day": 4, "dose_quantity": 0.5},
            ],
        },
        D(3, 1),
        D(3, 6),
        days(D(3, 1), D(3, 2), quantity=4) + days(D(3, 3), D(3, 4), quantity=3) + days(D(3, 5), D(3, 6), quantity=0.5),
    ),
    (
        "dose quantity without a taper",
        {"dose_quantity": Decimal("2.5")},
        D(3, 1),
        D(3, 1),
        days(D(3, 1), quantity=2.5),
    ),
    ("inactive: nothing", {"is_active": False}, D(3, 1), D(3, 3), []),
    ("as needed: nothing", {"frequency": Frequency.AS_NEEDED}, D(3, 1), D(3, 3), []),
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("fields", "first", "last", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_regimen_table(zone, fields, first, last, expected):
    tz = ZoneInfo(zone)
    found = doses_on_days(regimen(**fields), tz=tz, first=first, last=last)
    assert [(dose.local_date, dose.local_time, dose.quantity) for dose in found] == expected
    for dose in found:
        # None of these times falls in a gap or an overlap: the instant is that wall-clock time.
        wall = datetime.datetime.combine(dose.local_date, parse_hhmm(dose.local_time), tzinfo=tz)
        assert dose.at == wall.astimezone(UTC) and dose.at.tzinfo is UTC
    assert [dose.at for dose in found] == sorted({dose.at for dose in found})  # in order, each once


def utc(month, day, hour, minute=0, year=2027) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


# Daylight saving, by hand: (id, zone, medication fields, local day, expected [(UTC instant, local "HH:MM")]).
HOURLY_NIGHT = {"frequency": Frequency.INTERVAL, "interval_hours": 1, "interval_start": parse_hhmm("00:00")}
DST_CASES = [
    (
        "New York spring forward: 02:00 does not exist, fires at 03:00 once with the 03:00 dose",
        "America/New_York",
        {**HOURLY_NIGHT, "interval_end": parse_hhmm("04:00")},
        D(3, 14),
        [(utc(3, 14, 5), "00:00"), (utc(3, 14, 6), "01:00"), (utc(3, 14, 7), "03:00"), (utc(3, 14, 8), "04:00")],
    ),
    (
        "New York fall back: 01:00 happens twice, fires once (EDT)",
        "America/New_York",
        {**HOURLY_NIGHT, "interval_end": parse_hhmm("03:00")},
        D(11, 7),
        [(utc(11, 7, 4), "00:00"), (utc(11, 7, 5), "01:00"), (utc(11, 7, 7), "02:00"), (utc(11, 7, 8), "03:00")],
    ),
    (
        "New York spring forward, weekly Sunday 02:30 → 03:00 EDT",
        "America/New_York",
        {"frequency": Frequency.CUSTOM, "custom_schedule": ["02:30"], "days_of_week": ["sun"]},
        D(3, 14),
        [(utc(3, 14, 7), "03:00")],
    ),
    (
        "Chatham spring forward (02:45 → 03:45): 03:00 fires at 03:45 CHADT",
        "Pacific/Chatham",
        {"frequency": Frequency.CUSTOM, "custom_schedule": ["02:00", "03:00", "04:00"], "every_n_days": 11},
        D(9, 26),  # day 209 = 11 × 19 from 2027-03-01: a dose day
        [(utc(9, 25, 13, 15), "02:00"), (utc(9, 25, 14), "03:45"), (utc(9, 25, 14, 15), "04:00")],
    ),
    (
        "Chatham fall back (03:45 → 02:45): 03:00 happens twice, fires once (+13:45)",
        "Pacific/Chatham",
        {"frequency": Frequency.CUSTOM, "custom_schedule": ["03:00", "04:00"], "cycle_on_days": 1, "cycle_off_days": 1},
        D(4, 4),  # day 34: a dose day of the 1/1 cycle
        [(utc(4, 3, 13, 15), "03:00"), (utc(4, 3, 15, 15), "04:00")],
    ),
    (
        "Kiritimati (+14): a Monday 08:00 dose is Sunday in UTC",
        "Pacific/Kiritimati",
        {"days_of_week": ["mon"]},
        D(3, 1),
        [(utc(2, 28, 18), "08:00")],
    ),
    (
        "Kolkata (+05:30): 00:15 is the previous UTC day",
        "Asia/Kolkata",
        {"frequency": Frequency.CUSTOM, "custom_schedule": ["00:15"], "days_of_week": ["mon"]},
        D(3, 1),
        [(utc(2, 28, 18, 45), "00:15")],
    ),
]


@pytest.mark.parametrize(
    ("zone", "fields", "day", "expected"), [c[1:] for c in DST_CASES], ids=[c[0] for c in DST_CASES]
)
def test_daylight_saving_table(zone, fields, day, expected):
    found = doses_on_days(regimen(**fields), tz=ZoneInfo(zone), first=day, last=day)
    assert [(dose.at, dose.local_time) for dose in found] == expected
    assert all(dose.local_date == day for dose in found)


@pytest.mark.parametrize("zone", ZONES)
def test_next_dose_after_skips_to_the_next_dose_day(zone):
    tz = ZoneInfo(zone)
    weekly = regimen(days_of_week=["mon"])
    after = datetime.datetime.combine(D(3, 1), parse_hhmm("08:00"), tzinfo=tz)  # exactly the first dose
    assert next_dose_after(weekly, tz=tz, after=after) == datetime.datetime.combine(
        D(3, 8), parse_hhmm("08:00"), tzinfo=tz
    ).astimezone(UTC)
    yearly = regimen(every_n_days=365)
    assert next_dose_after(yearly, tz=tz, after=after).astimezone(tz).date() == MON + datetime.timedelta(days=365)
    ended = regimen(days_of_week=["sun"], end_date=D(3, 6))  # no Sunday before the end date
    assert next_dose_after(ended, tz=tz, after=after) is None


def test_doses_window_is_strictly_after_and_at_most_until():
    daily = regimen()
    at = utc(3, 2, 8)
    assert [d.at for d in doses(daily, tz=UTC, after=at, until=utc(3, 4, 8))] == [utc(3, 3, 8), utc(3, 4, 8)]


def test_interval_grid():
    assert interval_times(parse_hhmm("08:00"), parse_hhmm("22:00"), 8) == ["08:00", "16:00"]
    assert interval_times(parse_hhmm("00:00"), parse_hhmm("23:59"), 24) == ["00:00"]
    assert len(interval_times(parse_hhmm("00:00"), parse_hhmm("23:00"), 1)) == 24


def test_first_dose_day_finds_the_next_dose_day_within_its_bounds():
    cycle = Regimen(times=(datetime.time(8),), start_date=datetime.date(2027, 1, 1), cycle_on_days=21, cycle_off_days=7)
    assert cycle.first_dose_day(datetime.date(2027, 1, 5)) == datetime.date(2027, 1, 5)
    assert cycle.first_dose_day(datetime.date(2027, 1, 22)) == datetime.date(2027, 1, 29)  # after the off week
    assert cycle.first_dose_day(datetime.date(2027, 1, 22), datetime.date(2027, 1, 28)) is None
    assert cycle.first_dose_day(datetime.date(2026, 12, 1)) == datetime.date(2027, 1, 1)  # before the start
