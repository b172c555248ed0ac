import datetime

import pytest
from django.db.models import Avg

from accounts.tests.factories import PatientFactory
from conftest import client_for
from symptoms.models import Mood
from symptoms.tests.factories import MoodFactory

pytestmark = pytest.mark.django_db

URL = "/api/moods/"


def test_create_returns_the_mood_object(patient, patient_client):
    response = patient_client.post(URL, {"mood": 2, "notes": "tired"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "patient", "mood", "mood_display", "notes", "date", "logged_at"}
    assert body["mood_display"] == "Bad"
    assert body["date"] == patient.local_today().isoformat()
    assert body["patient"] == patient.pk


@pytest.mark.parametrize(("level", "label"), [(1, "Very Bad"), (3, "Okay"), (5, "Very Good")])
def test_mood_display(patient, patient_client, level, label):
    MoodFactory(patient=patient, mood=level)
    assert patient_client.get(URL).json()[0]["mood_display"] == label


def test_one_mood_per_day(patient, patient_client):
    today = patient.local_today().isoformat()
    assert patient_client.post(URL, {"mood": 3, "date": today}, format="json").status_code == 201
    response = patient_client.post(URL, {"mood": 4, "date": today}, format="json")
    assert response.status_code == 400
    assert response.json() == {"date": ["You have already logged a mood for this day."]}
    # Moving another day's mood onto a taken day is refused too.
    yesterday = MoodFactory(patient=patient, date=patient.local_today() - datetime.timedelta(days=1))
    response = patient_client.patch(f"{URL}{yesterday.pk}/", {"date": today}, format="json")
    assert response.status_code == 400
    # Editing the same day's mood is fine.
    assert patient_client.patch(f"{URL}{yesterday.pk}/", {"mood": 5}, format="json").status_code == 200
    assert Mood.objects.filter(patient=patient).count() == 2


def test_another_patient_may_log_the_same_day(patient, patient_client, other_patient):
    MoodFactory(patient=other_patient, date=patient.local_today())
    assert patient_client.post(URL, {"mood": 3}, format="json").status_code == 201


@pytest.mark.parametrize(
    "body",
    [{"mood": 0}, {"mood": 6}, {"mood": "good"}, {}, {"mood": 3, "notes": "<a href=x>"}, {"mood": 3, "date": "x"}],
)
def test_invalid_mood_is_a_400(patient_client, body):
    assert patient_client.post(URL, body, format="json").status_code == 400


def test_no_future_dates_in_the_patients_zone(freeze_now):
    freeze_now(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=datetime.UTC))
    kiribati = client_for(PatientFactory(timezone="Pacific/Kiritimati"))
    assert kiribati.post(URL, {"mood": 3, "date": "2026-03-11"}, format="json").status_code == 201
    assert kiribati.post(URL, {"mood": 3, "date": "2026-03-12"}, format="json").status_code == 400
    honolulu = client_for(PatientFactory(timezone="Pacific/Honolulu"))
    assert honolulu.post(URL, {"mood": 3, "date": "2026-03-11"}, format="json").status_code == 400


def test_trends_has_every_day_and_the_average(patient, patient_client):
    today = patient.local_today()
    MoodFactory(patient=patient, date=today, mood=4)
    MoodFactory(patient=patient, date=today - datetime.timedelta(days=2), mood=1)
    MoodFactory(patient=patient, date=today - datetime.timedelta(days=10), mood=5)  # outside the window
    body = patient_client.get(f"{URL}trends/", {"days": 3}).json()
    assert body["labels"] == [(today - datetime.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert body["datasets"][0]["label"] == "Mood"
    assert body["datasets"][0]["data"] == [1, None, 4]
    assert body["average"] == 2.5
    default = patient_client.get(f"{URL}trends/").json()
    assert len(default["labels"]) == 30 and default["labels"][-1] == today.isoformat()


def test_trends_average_is_the_databases_average_of_the_window(patient, patient_client):
    today = patient.local_today()
    levels = [1, 2, 2, 5, 3, 4, 4]  # windows of 1…7 days: 1.0, 1.5, 1.7 (5/3), 2.5, 2.6, 2.8 (17/6), 3.0
    for offset, level in enumerate(levels):
        MoodFactory(patient=patient, date=today - datetime.timedelta(days=offset), mood=level)
    for days in (1, 2, 3, 4, 5, 6, 7, 30):
        window = Mood.objects.filter(patient=patient, date__gt=today - datetime.timedelta(days=days))
        expected = round(float(window.aggregate(average=Avg("mood"))["average"]), 1)
        assert patient_client.get(f"{URL}trends/", {"days": days}).json()["average"] == expected
    assert patient_client.get(f"{URL}trends/", {"days": 3}).json()["average"] == 1.7
    assert patient_client.get(f"{URL}trends/", {"days": 6}).json()["average"] == 2.8


def test_trends_labels_follow_the_local_day(freeze_now):
    # The window's labels are made once per window: a new local day is a new window.
    client = client_for(PatientFactory(timezone="Asia/Tokyo"))
    freeze_now(datetime.datetime(2026, 3, 10, 14, 59, tzinfo=datetime.UTC))  # 23:59 in Tokyo
    assert client.get(f"{URL}trends/", {"days": 2}).json()["labels"] == ["2026-03-09", "2026-03-10"]
    freeze_now(datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC))  # midnight in Tokyo
    assert client.get(f"{URL}trends/", {"days": 2}).json()["labels"] == ["2026-03-10", "2026-03-11"]


def test_trends_average_is_null_without_moods(patient_client):
    body = patient_client.get(f"{URL}trends/", {"days": 7}).json()
    assert body["average"] is None and body["datasets"][0]["data"] == [None] * 7


@pytest.mark.parametrize("params", [{"days": "abc"}, {"days": "-1"}, {"days": "0"}, {"days": "366"}, {"patient": "x"}])
def test_trends_rejects_bad_parameters(patient_client, params):
    assert patient_client.get(f"{URL}trends/", params).status_code == 400


@pytest.mark.parametrize(
    "params", [{"mood": "9"}, {"mood": "x"}, {"date": "x"}, {"ordering": "notes"}, {"date_before": "2026-02-31"}]
)
def test_list_rejects_bad_parameters(patient_client, params):
    assert patient_client.get(URL, params).status_code == 400


def test_list_filters_and_ordering(patient, patient_client):
    today = patient.local_today()
    low = MoodFactory(patient=patient, mood=1, date=today - datetime.timedelta(days=1))
    high = MoodFactory(patient=patient, mood=5, date=today)
    assert [row["id"] for row in patient_client.get(URL, {"mood": 1}).json()] == [low.pk]
    assert [row["id"] for row in patient_client.get(URL, {"ordering": "-mood"}).json()] == [high.pk, low.pk]
    assert [row["id"] for row in patient_client.get(URL, {"date_before": low.date.isoformat()}).json()] == [low.pk]


def test_scoping_matrix(doctor, doctor_client, assigned_patient, other_patient, other_doctor):
    mood = MoodFactory(patient=assigned_patient, mood=3)
    url = f"{URL}{mood.pk}/"
    assert client_for(assigned_patient).get(url).status_code == 200
    assert doctor_client.get(url).status_code == 200
    assert client_for(other_doctor).get(url).status_code == 404
    assert client_for(other_patient).get(url).status_code == 404
    assert doctor_client.patch(url, {"mood": 1}, format="json").status_code == 403
    assert doctor_client.delete(url).status_code == 403
    assert doctor_client.post(URL, {"mood": 1}, format="json").status_code == 403
    assert client_for(other_patient).delete(url).status_code == 404
    mood.refresh_from_db()
    assert mood.mood == 3
    # Doctors: lists cover all their patients, trends need ?patient=.
    assert [row["id"] for row in doctor_client.get(URL).json()] == [mood.pk]
    assert doctor_client.get(f"{URL}trends/").status_code == 400
    assert doctor_client.get(f"{URL}trends/", {"patient": assigned_patient.pk}).json()["average"] == 3.0
    assert doctor_client.get(f"{URL}trends/", {"patient": other_patient.pk}).status_code == 404


def test_list_and_trends_query_counts(patient, patient_client, django_assert_num_queries):
    for offset in range(20):
        MoodFactory(patient=patient, date=patient.local_today() - datetime.timedelta(days=offset))
    # user, moods.
    with django_assert_num_queries(2):
        assert len(patient_client.get(URL).json()) == 20
    # user, the series (the average is taken from its rows).
    with django_assert_num_queries(2):
        body = patient_client.get(f"{URL}trends/", {"days": 365}).json()
    assert sum(value is not None for value in body["datasets"][0]["data"]) == 20
