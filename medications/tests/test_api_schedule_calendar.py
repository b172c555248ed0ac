"""GET /api/medications/{id}/schedule/ and the calendar feed (/api/medications/calendar/ and
/api/calendar/<token>.ics), read back with the icalendar library."""

import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import AccessResource, DataAccessLog
from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications import ics, selectors
from medications.models import CalendarFeed, Frequency, Medication
from medications.services import calendar_feed_issue, medication_create

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def create(patient, **fields) -> Medication:
    data = {"name": "Methotrexate", "dosage": "2.5 mg", "frequency": Frequency.ONCE_DAILY, **fields}
    data.setdefault("start_date", patient.local_today())
    return medication_create(patient=patient, data=data)


def schedule_url(medication, days=None) -> str:
    return f"/api/medications/{medication.pk}/schedule/" + (f"?days={days}" if days else "")


# --- schedule/ ----------------------------------------------------------------------------------


def test_weekly_monday_shows_only_mondays(patient, patient_client):
    medication = create(patient, days_of_week=["mon"], dose_quantity=3, dose_unit="tablet")
    response = patient_client.get(schedule_url(medication, 28))
    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list) and 3 <= len(rows) <= 4
    for row in rows:
        assert set(row) == {"scheduled_for", "local_date", "local_time", "dose_quantity"}
        assert datetime.date.fromisoformat(row["local_date"]).weekday() == 0
        assert row["local_time"] == "08:00" and row["dose_quantity"] == 3.0
    assert [row["scheduled_for"] for row in rows] == sorted(row["scheduled_for"] for row in rows)


def test_21_7_cycle_shows_the_right_days(patient, patient_client):
    start = patient.local_today() - datetime.timedelta(days=20)  # today is the last "on" day
    medication = create(
        patient,
        cycle_on_days=21,
        cycle_off_days=7,
        start_date=start,
        frequency=Frequency.CUSTOM,
        custom_schedule=["23:59"],
    )
    days = {row["local_date"] for row in patient_client.get(schedule_url(medication, 30)).json()}
    expected = {start + datetime.timedelta(days=n) for n in list(range(20, 21)) + list(range(28, 49))}
    today = patient.local_today()
    expected = {day.isoformat() for day in expected if today <= day < today + datetime.timedelta(days=30)}
    assert days == expected


def test_schedule_is_the_selector_the_sweep_shares(patient, patient_client):
    medication = create(patient, frequency=Frequency.INTERVAL, interval_hours=6, every_n_days=2)
    body = patient_client.get(schedule_url(medication, 5)).json()
    direct = selectors.medication_schedule(medication=medication, tz=patient.tzinfo, days=5)
    assert [row["scheduled_for"] for row in body] == [
        row["scheduled_for"].isoformat().replace("+00:00", "Z") for row in direct
    ]


@pytest.mark.parametrize("days", ["0", "91", "-1", "abc", "10**9"])
def test_schedule_days_bounds(patient, patient_client, days):
    medication = create(patient)
    response = patient_client.get(schedule_url(medication, days))
    assert response.status_code == 400 and "days" in response.json()


def test_schedule_scoping_and_audit(patient, doctor):
    patient.assigned_doctor = doctor
    patient.save()
    medication = create(patient)
    assert client_for(doctor).get(schedule_url(medication)).status_code == 200
    assert DataAccessLog.objects.filter(doctor=doctor, patient=patient, resource=AccessResource.MEDICATIONS).exists()
    assert client_for(PatientFactory()).get(schedule_url(medication)).status_code == 404
    assert APIClient().get(schedule_url(medication)).status_code == 401


def test_schedule_query_count(patient, patient_client, django_assert_num_queries):
    medication = create(patient, frequency=Frequency.THREE_TIMES_DAILY)
    with django_assert_num_queries(2):  # the user, the medication (with the owner's zone)
        assert len(patient_client.get(schedule_url(medication, 90)).json()) >= 89 * 3


# --- the calendar feed --------------------------------------------------------------------------


def feed_path(client) -> str:
    return urlsplit(client.get("/api/medications/calendar/").json()["url"]).path


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_feed_url_is_stable_until_reissued(patient_client, settings):
    settings.PUBLIC_URL = "https://meditrack.example"
    first = patient_client.get("/api/medications/calendar/").json()
    assert first["show_names"] is True
    assert first["url"].startswith("https://meditrack.example/api/calendar/") and first["url"].endswith(".ics")
    assert patient_client.get("/api/medications/calendar/").json() == first
    feed = CalendarFeed.objects.get()
    token = urlsplit(first["url"]).path.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) == 43 and token not in (feed.seed, feed.token_hash)  # only a hash is stored

    second = patient_client.post("/api/medications/calendar/", {"show_names": False}, format="json").json()
    assert second["show_names"] is False and second["url"] != first["url"]
    assert APIClient().get(urlsplit(first["url"]).path).status_code == 404  # revoked at once
    assert APIClient().get(urlsplit(second["url"]).path).status_code == 200


def test_feed_events_times_zone_and_uids(settings):
    patient = PatientFactory(timezone="America/New_York")
    weekly = create(patient, days_of_week=["mon"], name="Weekly & Co", dose_quantity=2.5, dose_unit="tablet")
    create(patient, frequency=Frequency.TWICE_DAILY)
    create(patient, frequency=Frequency.AS_NEEDED, name="Rescue inhaler")
    create(patient, name="Paused", is_active=False)
    client = client_for(patient)
    path = feed_path(client)
    calendar = parse(APIClient().get(path))

    [vtimezone] = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "America/New_York"
    events = calendar.walk("VEVENT")
    today = patient.local_today()
    window = [today + datetime.timedelta(days=n) for n in range(-7, 31)]
    mondays = sum(1 for day in window if day.weekday() == 0 and day >= weekly.start_date)
    twice = 2 * sum(1 for day in window if day >= weekly.start_date)
    assert len(events) == mondays + twice
    for event in events:
        start = event.decoded("DTSTART")
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert start.tzinfo is not None and start.astimezone(NY).strftime("%H:%M") in ("08:00", "20:00")
        assert event.decoded("DURATION") == datetime.timedelta(minutes=15)
    weekly_events = [e for e in events if str(e["SUMMARY"]).startswith("Weekly")]
    assert len(weekly_events) == mondays
    assert {str(event["SUMMARY"]) for event in weekly_events} == {"Weekly & Co 2.5 mg (2.5 × tablet)"}
    # The default single dose adds nothing to the name (as in the PDF): no "(1 × dose)".
    assert {str(e["SUMMARY"]) for e in events if str(e["SUMMARY"]).startswith("Methotrexate")} == {
        "Methotrexate 2.5 mg"
    }
    assert all(event.decoded("DTSTART").astimezone(NY).weekday() == 0 for event in weekly_events)
    uids = [str(event["UID"]) for event in events]
    assert len(set(uids)) == len(uids)
    assert uids == [str(event["UID"]) for event in parse(APIClient().get(path)).walk("VEVENT")]  # stable


def test_feed_across_a_dst_change_keeps_local_time():
    patient = PatientFactory(timezone="America/New_York")
    feed = calendar_feed_issue(patient=patient)
    medication = create(patient, start_date=datetime.date(2027, 3, 1))
    now = datetime.datetime(2027, 3, 12, 12, 0, tzinfo=datetime.UTC)  # the change is on 2027-03-14
    calendar = icalendar.Calendar.from_ical(selectors.calendar_feed_document(feed=feed, now=now))
    starts = sorted(event.decoded("DTSTART") for event in calendar.walk("VEVENT"))
    assert len(starts) == 7 + 1 + 30  # 2027-03-05 … 2027-04-11 (the medication started 03-01)
    assert {start.astimezone(NY).strftime("%H:%M") for start in starts} == {"08:00"}
    utc_hours = {start.astimezone(datetime.UTC).date(): start.astimezone(datetime.UTC).hour for start in starts}
    assert utc_hours[datetime.date(2027, 3, 13)] == 13 and utc_hours[datetime.date(2027, 3, 14)] == 12
    assert medication.is_active


def test_show_names_false_hides_every_name(patient, patient_client):
    create(patient, name="Sertraline")
    patient_client.post("/api/medications/calendar/", {"show_names": False}, format="json")
    response = APIClient().get(feed_path(patient_client))
    assert b"Sertraline" not in response.content
    assert {str(e["SUMMARY"]) for e in parse(response).walk("VEVENT")} == {ics.HIDDEN_NAME}


@pytest.mark.parametrize("body", [{"show_names": "no"}, {"show_names": 0}])
def test_issue_validates(patient_client, body):
    response = patient_client.post("/api/medications/calendar/", body, format="json")
    assert response.status_code == 400 and "show_names" in response.json()


def test_bad_tokens_are_json_404(patient_client):
    feed_path(patient_client)
    for token in ("x", "A" * 43, "%00", "a.b"):
        response = APIClient().get(f"/api/calendar/{token}.ics")
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_doctors_and_anonymous_have_no_feed(doctor_client):
    assert doctor_client.get("/api/medications/calendar/").status_code == 403
    assert doctor_client.post("/api/medications/calendar/", {}, format="json").status_code == 403
    assert APIClient().get("/api/medications/calendar/").status_code == 401


def test_feed_rate_limits(patient_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "calendar": "2/h", "calendar_miss": "2/h"}
    path = feed_path(patient_client)
    anon = APIClient()
    assert [anon.get(path).status_code for _ in range(3)] == [200, 200, 429]
    response = anon.get(path)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1 and "detail" in response.json()
    # Guessing is limited per client IP; the valid feed was not counted against it.
    assert [anon.get(f"/api/calendar/{'B' * 43}.ics").status_code for _ in range(3)] == [404, 404, 429]


def test_feed_query_count(patient, patient_client, django_assert_num_queries):
    for n in range(5):
        create(patient, name=f"Medicine {n}", frequency=Frequency.THREE_TIMES_DAILY)
    path = feed_path(patient_client)
    with django_assert_num_queries(2):  # the feed with its patient, the medications
        assert len(parse(APIClient().get(path)).walk("VEVENT")) == 5 * 3 * 31


def test_calendar_list_query_count(patient_client, django_assert_num_queries):
    feed_path(patient_client)
    with django_assert_num_queries(2):  # the user, the feed
        assert patient_client.get("/api/medications/calendar/").status_code == 200


def test_deleting_the_patient_deletes_the_feed(patient, patient_client):
    feed_path(patient_client)
    patient.delete()
    assert not CalendarFeed.objects.exists()
