"""Dose-time arithmetic: local "HH:MM" times in a patient's zone → aware instants.

Pure functions (no database). Daylight-saving rules from the SPEC:
- a local time that does not exist that day (spring-forward gap) fires at the first valid
  minute after it (02:30 in New York on 2026-03-08 → 03:00 EDT);
- a local time that occurs twice (fall-back overlap) fires once, at its first occurrence.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

UTC = datetime.UTC
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# A gap is at most a few hours in any real zone; bound the walk anyway.
_MAX_GAP_MINUTES = 24 * 60


def parse_hhmm(value: str) -> datetime.time:
    match = HHMM.match(value)
    if not match:
        raise ValueError(f"not an HH:MM time: {value!r}")
    return datetime.time(int(match.group(1)), int(match.group(2)))


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


def doses_between(
    *,
    times: Sequence[datetime.time],
    tz: ZoneInfo,
    start_date: datetime.date,
    end_date: datetime.date | None,
    after: datetime.datetime,
    until: datetime.datetime | None = None,
) -> Iterator[datetime.datetime]:
    """Dose instants strictly after ``after`` (and at or before ``until``, if given), in order.

    Without ``until`` the iterator is endless unless ``end_date`` stops it; take what you need.
    """
    if not times:
        return
    times = sorted(times)
    day = max(after.astimezone(tz).date() - datetime.timedelta(days=1), start_date)
    last: datetime.datetime | None = None
    while end_date is None or day <= end_date:
        for at in times:
            instant = resolve_local(day, at, tz)
            if instant <= after or (last is not None and instant <= last):
                continue  # already past, or a gap time that collapsed onto an earlier dose
            if until is not None and instant > until:
                return
            last = instant
            yield instant
        day += datetime.timedelta(days=1)


def next_dose(
    *,
    times: Iterable[datetime.time],
    tz: ZoneInfo,
    start_date: datetime.date,
    end_date: datetime.date | None,
    after: datetime.datetime,
) -> datetime.datetime | None:
    """The first dose instant strictly after ``after``; None when the schedule has ended."""
    return next(
        doses_between(times=list(times), tz=tz, start_date=start_date, end_date=end_date, after=after),
        None,
    )
