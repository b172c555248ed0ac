"""Property: the sweep, run at random increasing instants, emails exactly the doses that the
schedule preview listed, each once, whatever the regimen, zone or daylight-saving change.

Sweeps are at most 2 hours apart (the catch-up window: a dose older than that is recorded missed
without an email, by design), which also covers "within one tick" for any beat interval.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import PatientFactory
from medications import selectors
from medications.models import Frequency, Medication, Reminder
from medications.schedule import WEEKDAYS
from medications.services import medication_create
from medications.services.sweep import CATCH_UP, sweep

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
PREVIEW_DAYS = 2
ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham", "Pacific/Kiritimati", "Europe/London")
# Up to 12 hours before each 2027 change (New York both, London spring, Chatham both), and an
# ordinary day; a sweep run lasts a day, so it crosses the change.
STARTS = (
    datetime.datetime(2027, 3, 13, 19, 0, tzinfo=UTC),
    datetime.datetime(2027, 3, 27, 13, 0, tzinfo=UTC),
    datetime.datetime(2027, 4, 3, 2, 0, tzinfo=UTC),
    datetime.datetime(2027, 9, 25, 2, 0, tzinfo=UTC),
    datetime.datetime(2027, 11, 6, 18, 0, tzinfo=UTC),
    datetime.datetime(2027, 6, 1, 0, 0, tzinfo=UTC),
)

hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
times = st.one_of(
    st.sampled_from([Frequency.ONCE_DAILY, Frequency.TWICE_DAILY, Frequency.THREE_TIMES_DAILY]).map(
        lambda f: {"frequency": f}
    ),
    st.lists(hhmm, min_size=1, max_size=4, unique=True).map(
        lambda ts: {"frequency": Frequency.CUSTOM, "custom_schedule": ts}
    ),
    st.tuples(st.integers(1, 12), st.integers(0, 11), st.integers(12, 23)).map(
        lambda t: {
            "frequency": Frequency.INTERVAL,
            "interval_hours": t[0],
            "interval_start": datetime.time(t[1], 30),
            "interval_end": datetime.time(t[2], 0),
        }
    ),
)
day_rules = st.one_of(
    st.just({}),
    st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(lambda d: {"days_of_week": d}),
    st.integers(2, 5).map(lambda n: {"every_n_days": n}),
    st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda c: {"cycle_on_days": c[0], "cycle_off_days": c[1]}),
)


@pytest.fixture
def email_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


def no_retry(reminder_id, claim):  # pragma: no cover - a failure if it is ever called
    raise AssertionError(f"unexpected retry of {reminder_id}")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    start=st.sampled_from(STARTS),
    offset_minutes=st.integers(0, 12 * 60),
    started_days_ago=st.integers(0, 6),
    time_fields=times,
    day_fields=day_rules,
    rng=st.randoms(use_true_random=False),
)
def test_sweeps_send_exactly_the_previewed_doses_once(
    email_settings, zone, start, offset_minutes, started_days_ago, time_fields, day_fields, rng
):
    Reminder.objects.all().delete()
    Medication.objects.all().delete()
    mail.outbox.clear()
    tz = ZoneInfo(zone)
    t0 = start + datetime.timedelta(minutes=offset_minutes)
    patient = PatientFactory(timezone=zone)
    data = {
        "name": "Property pill",
        "dosage": "1 mg",
        "start_date": t0.astimezone(tz).date() - datetime.timedelta(days=started_days_ago),
        **time_fields,
        **day_fields,
    }
    medication = medication_create(patient=patient, data=data, now=t0)
    preview = selectors.medication_schedule(medication=medication, tz=tz, days=PREVIEW_DAYS, now=t0)

    # Sweep at random instants, 1 minute to 2 hours apart, up to the end of the preview's window.
    window_end = t0 + datetime.timedelta(days=PREVIEW_DAYS - 1)
    now = t0
    while True:
        step = datetime.timedelta(minutes=rng.randint(1, int(CATCH_UP.total_seconds() // 60)))
        if now + step > window_end:
            break
        now += step
        sweep(now=now, on_transient=no_retry)

    expected = [row["scheduled_for"] for row in preview if row["scheduled_for"] <= now]
    sent = list(Reminder.objects.filter(sent_at__isnull=False).order_by("scheduled_for"))
    assert [row.scheduled_for for row in sent] == expected
    assert len(mail.outbox) == len(expected)  # each once
    assert Reminder.objects.count() == len(expected)  # and no row the preview did not list
