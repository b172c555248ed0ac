"""The one place that knows when a medication's doses fall.

A ``Regimen`` holds a medication's schedule values (no database); ``doses()`` turns it and the
patient's zone into aware dose instants with their quantities. The sweep, ``next_dose_at``, the
``schedule/`` preview, the calendar feed and everything else that needs dose times call this
module; nothing else decides what a dose day is.

Rules (SPEC "Medications", "Reminders" and part two "Regimens"):
- a dose day is a local date from ``start_date`` to ``end_date`` (open end allowed) that the
  day rule accepts: every day, the given weekdays, every N days from the start date (day 0 is a
  dose day), or an on/off cycle from the start date;
- on a dose day the doses fall at the medication's local ``HH:MM`` times (the fixed times of its
  frequency, the custom list, or the ``interval`` grid from ``interval_start`` to
  ``interval_end``, both included when on the grid);
- a local time that does not exist that day (spring-forward gap) fires at the first valid
  minute after it (02:30 in New York on 2026-03-08 → 03:00 EDT); several times collapsing onto
  one instant fire once;
- a local time that occurs twice (fall-back overlap) fires once, at its first occurrence;
- the quantity of a dose is ``dose_quantity``, or the taper step in force on that day.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the model module imports this one
    from medications.models import Medication

UTC = datetime.UTC
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
# Local times of the fixed frequencies.
FIXED_TIMES: dict[str, tuple[str, ...]] = {
    "once_daily": ("08:00",),
    "twice_daily": ("08:00", "20:00"),
    "three_times_daily": ("08:00", "14:00", "20:00"),
}
INTERVAL_DEFAULT_START = datetime.time(8, 0)
INTERVAL_DEFAULT_END = datetime.time(22, 0)
# A gap is at most a few hours in any real zone; bound the walk anyway.
_MAX_GAP_MINUTES = 24 * 60
# The longest run of days without a dose that a valid regimen allows (a 365-day cycle off, or
# every 365 days), plus margin: a walk that finds nothing for this long has ended.
_MAX_DAYS_WITHOUT_DOSE = 2 * 366


def plain_number(value: Decimal | float | int | str) -> str:
    """A quantity as people write it: 10.000 → "10", 2.500 → "2.5"."""
    return format(Decimal(str(value)).normalize(), "f")


def dose_amount(quantity: Decimal | float | int | str, unit: str) -> str | None:
    """One dose as the PDF, the calendar and the emails write it ("2.5 × tablet"); None for the
    default single dose (1 × dose), which says nothing the medication's name does not."""
    if Decimal(str(quantity)) == 1 and unit == "dose":
        return None
    return f"{plain_number(quantity)} × {unit}"


def parse_hhmm(value: str) -> datetime.time:
    match = HHMM.match(value)
    if not match:
        raise ValueError(f"not an HH:MM time: {value!r}")
    return datetime.time(int(match.group(1)), int(match.group(2)))


def hhmm(value: datetime.time) -> str:
    return value.strftime("%H:%M")


def interval_times(start: datetime.time, end: datetime.time, hours: int) -> list[str]:
    """Every ``hours`` hours from ``start`` up to ``end`` (both included when on the grid)."""
    first = start.hour * 60 + start.minute
    last = end.hour * 60 + end.minute
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(first, last + 1, hours * 60)]


def reminder_times(
    *,
    frequency: str,
    custom_schedule: Sequence[str] | None = None,
    interval_hours: int | None = None,
    interval_start: datetime.time | None = None,
    interval_end: datetime.time | None = None,
) -> list[str]:
    """The local "HH:MM" times of a dose day, sorted (none for ``as_needed``)."""
    if frequency == "custom":
        return sorted(custom_schedule or [])
    if frequency == "interval":
        if not interval_hours:
            return []
        return interval_times(
            interval_start or INTERVAL_DEFAULT_START, interval_end or INTERVAL_DEFAULT_END, interval_hours
        )
    return list(FIXED_TIMES.get(frequency, ()))


# The medication columns ``Regimen.of`` reads (for ``.only()`` on hot paths).
REGIMEN_COLUMNS = (
    "frequency",
    "custom_schedule",
    "interval_hours",
    "interval_start",
    "interval_end",
    "start_date",
    "end_date",
    "is_active",
    "days_of_week",
    "every_n_days",
    "cycle_on_days",
    "cycle_off_days",
    "dose_quantity",
    "taper",
)


@dataclass(frozen=True)
class Regimen:
    """A medication's schedule values: what decides its dose days, times and quantities."""

    times: tuple[datetime.time, ...]
    start_date: datetime.date
    end_date: datetime.date | None = None
    days_of_week: frozenset[int] | None = None  # date.weekday() numbers
    every_n_days: int = 1
    cycle_on_days: int | None = None
    cycle_off_days: int | None = None
    dose_quantity: Decimal = Decimal(1)
    taper: tuple[tuple[int, Decimal], ...] = ()  # (from_day, quantity), sorted, first from_day 0

    @classmethod
    def of(cls, medication: Medication) -> Regimen:
        """The regimen of a medication (inactive → no times, hence no doses)."""
        times = medication.reminder_times if medication.is_active else []
        return cls(
            times=tuple(parse_hhmm(value) for value in times),
            start_date=medication.start_date,
            end_date=medication.end_date,
            days_of_week=(
                frozenset(WEEKDAYS.index(day) for day in medication.days_of_week) if medication.days_of_week else None
            ),
            every_n_days=medication.every_n_days or 1,
            cycle_on_days=medication.cycle_on_days,
            cycle_off_days=medication.cycle_off_days,
            dose_quantity=Decimal(medication.dose_quantity),
            taper=tuple((step["from_day"], Decimal(str(step["dose_quantity"]))) for step in medication.taper or ()),
        )

    def is_dose_day(self, day: datetime.date) -> bool:
        if day < self.start_date or (self.end_date is not None and day > self.end_date):
            return False
        index = (day - self.start_date).days  # day 0 is the start date
        if self.days_of_week is not None:
            return day.weekday() in self.days_of_week
        if self.cycle_on_days and self.cycle_off_days:
            return index % (self.cycle_on_days + self.cycle_off_days) < self.cycle_on_days
        return index % self.every_n_days == 0

    def first_dose_day(self, first: datetime.date, last: datetime.date | None = None) -> datetime.date | None:
        """The first dose day from ``first`` to ``last`` (both included; no ``last``: as far as a
        valid regimen can go without a dose), or None."""
        day = first
        for _ in range(_MAX_DAYS_WITHOUT_DOSE + 1):
            if last is not None and day > last:
                return None
            if self.is_dose_day(day):
                return day
            day += datetime.timedelta(days=1)
        return None

    def quantity_on(self, day: datetime.date) -> Decimal:
        index = (day - self.start_date).days
        quantity = self.dose_quantity
        for from_day, step_quantity in self.taper:
            if from_day > index:
                break
            quantity = step_quantity
        return quantity


@dataclass(frozen=True)
class Dose:
    at: datetime.datetime  # aware, UTC
    local_date: datetime.date  # the dose day it belongs to
    local_time: str  # "HH:MM" on the patient's clock when it fires
    quantity: Decimal


def _exists(local: datetime.datetime) -> bool:
    """Whether an aware wall-clock time (fold=0) exists in its zone."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def resolve_local(day: datetime.date, at: datetime.time, tz: ZoneInfo) -> datetime.datetime:
    """The aware UTC instant at which a dose for local ``day`` ``at`` fires."""
    local = datetime.datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of two occurrences
    if _exists(local):
        return local.astimezone(UTC)
    naive = local.replace(tzinfo=None)
    for minutes in range(1, _MAX_GAP_MINUTES + 1):
        candidate = (naive + datetime.timedelta(minutes=minutes)).replace(tzinfo=tz)
        if _exists(candidate):
            return candidate.astimezone(UTC)
    raise ValueError("no valid local time within a day")  # pragma: no cover (no such zone)


def doses(
    regimen: Regimen, *, tz: ZoneInfo, after: datetime.datetime, until: datetime.datetime | None = None
) -> Iterator[Dose]:
    """Doses strictly after ``after`` (and at or before ``until``, if given), in order.

    Without ``until`` the iterator is endless unless ``end_date`` stops it; take what you need.
    """
    if not regimen.times:
        return
    times = sorted(regimen.times)
    # The day before ``after``'s local date: a gap dose of that day can fire after midnight.
    day = max(after.astimezone(tz).date() - datetime.timedelta(days=1), regimen.start_date)
    last: datetime.datetime | None = None
    days_without = 0
    while regimen.end_date is None or day <= regimen.end_date:
        if regimen.is_dose_day(day):
            days_without = 0
            quantity = regimen.quantity_on(day)
            for at in times:
                instant = resolve_local(day, at, tz)
                if instant <= after or (last is not None and instant <= last):
                    continue  # already past, or a gap time that collapsed onto an earlier dose
                if until is not None and instant > until:
                    return
                last = instant
                yield Dose(instant, day, hhmm(instant.astimezone(tz).time()), quantity)
        else:
            days_without += 1
            if days_without > _MAX_DAYS_WITHOUT_DOSE:
                return  # pragma: no cover (a valid regimen never gets here)
        if until is not None and resolve_local(day, datetime.time(0, 0), tz) > until:
            return
        day += datetime.timedelta(days=1)


def doses_on_days(regimen: Regimen, *, tz: ZoneInfo, first: datetime.date, last: datetime.date) -> list[Dose]:
    """The doses whose dose day is a local date from ``first`` to ``last`` (both included)."""
    after = resolve_local(first, datetime.time(0, 0), tz) - datetime.timedelta(seconds=1)
    until = resolve_local(last + datetime.timedelta(days=2), datetime.time(0, 0), tz)
    return [dose for dose in doses(regimen, tz=tz, after=after, until=until) if first <= dose.local_date <= last]


def next_dose_after(regimen: Regimen, *, tz: ZoneInfo, after: datetime.datetime) -> datetime.datetime | None:
    """The first dose instant strictly after ``after``; None when the schedule has ended."""
    dose = next(doses(regimen, tz=tz, after=after), None)
    return dose.at if dose else None


def next_dose(
    *,
    times: Iterable[datetime.time],
    tz: ZoneInfo,
    start_date: datetime.date,
    end_date: datetime.date | None,
    after: datetime.datetime,
) -> datetime.datetime | None:
    """A daily regimen's first dose after ``after`` (kept for migration 0002, which calls it)."""
    regimen = Regimen(times=tuple(times), start_date=start_date, end_date=end_date)
    return next_dose_after(regimen, tz=tz, after=after)
