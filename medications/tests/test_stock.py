"""Stock and refills: days_of_supply / runs_out_on from the regimen, stock moved by answers and
logged doses exactly once each way, the refill route, one "refill soon" email per refill cycle."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications import services, tasks
from medications.events import stock_low
from medications.models import Frequency, Medication, Reminder, ReminderStatus
from medications.services import stock
from medications.tests.factories import ReminderFactory

UTC = datetime.UTC
pytestmark = pytest.mark.django_db
# 07:00 in Kolkata on 2026-06-01 (01:30 UTC): today's 08:00 and 20:00 doses are still ahead.
NOW = datetime.datetime(2026, 6, 1, 1, 30, tzinfo=UTC)
TODAY = datetime.date(2026, 6, 1)
URL = "/api/medications/"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def patient():
    return PatientFactory(timezone="Asia/Kolkata", email="pat@example.test", first_name="Pat")


def medicate(patient, **fields) -> Medication:
    data = {
        "name": "Metformin",
        "dosage": "500 mg",
        "frequency": Frequency.TWICE_DAILY,
        "start_date": datetime.date(2026, 5, 1),
        "stock_quantity": Decimal(10),
        **fields,
    }
    return services.medication_create(patient=patient, data=data, now=NOW)


def dose(medication, *, status=ReminderStatus.SENT, hours_ago=1) -> Reminder:
    return ReminderFactory(
        medication=medication, status=status, scheduled_for=NOW - datetime.timedelta(hours=hours_ago)
    )


def stock_of(medication) -> Decimal:
    medication.refresh_from_db(fields=["stock_quantity"])
    return medication.stock_quantity


# --- days_of_supply and runs_out_on ----------------------------------------------------------


def test_ten_tablets_at_two_a_day_run_out_in_five_days(patient):
    medication = medicate(patient)
    assert stock.supply(medication, now=NOW) == (5, TODAY + datetime.timedelta(days=5))


def test_late_in_the_day_today_is_already_taken_care_of(patient):
    medication = medicate(patient)
    evening = NOW + datetime.timedelta(hours=15)  # 22:00 in Kolkata: today's doses are behind
    assert stock.supply(medication, now=evening) == (6, TODAY + datetime.timedelta(days=6))


def test_dose_quantity_and_taper_count(patient):
    assert stock.supply(medicate(patient, frequency=Frequency.ONCE_DAILY, dose_quantity=Decimal(2)), now=NOW) == (
        5,
        TODAY + datetime.timedelta(days=5),
    )
    # Started today: 3 a day for days 0–1, then 1: 10 covers 3 + 3 + 1 + 1 + 1 + 1.
    taper = [{"from_day": 0, "dose_quantity": 3}, {"from_day": 2, "dose_quantity": 1}]
    tapering = medicate(patient, frequency=Frequency.ONCE_DAILY, start_date=TODAY, taper=taper)
    assert stock.supply(tapering, now=NOW) == (6, TODAY + datetime.timedelta(days=6))


def test_weekly_regimen_counts_calendar_days(patient):
    weekly = medicate(patient, frequency=Frequency.ONCE_DAILY, days_of_week=["mon"], stock_quantity=Decimal(2))
    # 2026-06-01 is a Monday: doses today and on the 8th; the 15th is the first one not covered.
    assert stock.supply(weekly, now=NOW) == (14, datetime.date(2026, 6, 15))


def test_no_supply_figures_when_untracked_as_needed_or_outlasting(patient):
    assert stock.supply(medicate(patient, stock_quantity=None), now=NOW) == (None, None)
    assert stock.supply(medicate(patient, frequency=Frequency.AS_NEEDED), now=NOW) == (None, None)
    ending = medicate(patient, end_date=TODAY + datetime.timedelta(days=2))  # 6 doses, 10 in stock
    assert stock.supply(ending, now=NOW) == (None, None)
    assert stock.supply(medicate(patient, stock_quantity=Decimal(0)), now=NOW) == (0, TODAY)


def test_the_api_shows_stock_fields_with_bounds(patient):
    client = client_for(patient)
    created = client.post(
        URL,
        {"name": "Metformin", "dosage": "500 mg", "frequency": "twice_daily", "start_date": "2026-05-01",
         "stock_quantity": 10, "refill_threshold_days": 3},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["stock_quantity"] == 10 and body["refill_threshold_days"] == 3
    medication = Medication.objects.get(pk=body["id"])
    days, runs_out_on = stock.supply(medication)
    assert days in (4, 5, 6) and body["days_of_supply"] == days
    assert body["runs_out_on"] == runs_out_on.isoformat()
    untracked = client.post(
        URL, {"name": "B", "dosage": "1", "frequency": "once_daily", "start_date": "2026-05-01"}, format="json"
    ).json()
    assert untracked["stock_quantity"] is None and untracked["refill_threshold_days"] == 7
    assert untracked["days_of_supply"] is None and untracked["runs_out_on"] is None
    for bad in ({"stock_quantity": -1}, {"stock_quantity": "ten"}, {"stock_quantity": 1e9},
                {"refill_threshold_days": 0}, {"refill_threshold_days": 61}):  # fmt: skip
        response = client.patch(f"{URL}{body['id']}/", bad, format="json")
        assert response.status_code == 400, bad
    assert client.patch(f"{URL}{body['id']}/", {"days_of_supply": 99}, format="json").json()["days_of_supply"] == days


def test_medication_list_cost_does_not_grow_with_stock(patient, django_assert_num_queries):
    for _ in range(4):
        medicate(patient, stock_quantity=Decimal(500))
    with django_assert_num_queries(2):  # the user, the medications (with their owner)
        response = client_for(patient).get(URL)
    assert [row["stock_quantity"] for row in response.json()] == [500] * 4


# --- Answers move the stock, exactly once each way --------------------------------------------


def test_taken_takes_off_skipped_puts_back_each_once(patient):
    medication = medicate(patient, dose_quantity=Decimal("1.5"))
    reminder = dose(medication)
    services.reminder_answer(reminder=reminder, status=ReminderStatus.TAKEN, now=NOW)
    assert stock_of(medication) == Decimal("8.5")
    services.reminder_answer(reminder=Reminder.objects.get(pk=reminder.pk), status=ReminderStatus.TAKEN, now=NOW)
    stale = Reminder.objects.get(pk=reminder.pk)
    stale.status = ReminderStatus.SENT  # a stale copy answering "taken" again
    services.reminder_answer(reminder=stale, status=ReminderStatus.TAKEN, now=NOW)
    assert stock_of(medication) == Decimal("8.5")
    services.reminder_answer(reminder=Reminder.objects.get(pk=reminder.pk), status=ReminderStatus.SKIPPED, now=NOW)
    assert stock_of(medication) == Decimal(10)
    services.reminder_answer(reminder=Reminder.objects.get(pk=reminder.pk), status=ReminderStatus.SKIPPED, now=NOW)
    assert stock_of(medication) == Decimal(10)
    services.reminder_answer(reminder=Reminder.objects.get(pk=reminder.pk), status=ReminderStatus.TAKEN, now=NOW)
    assert stock_of(medication) == Decimal("8.5")


def test_skipping_a_dose_never_taken_changes_nothing(patient):
    medication = medicate(patient)
    services.reminder_answer(reminder=dose(medication), status=ReminderStatus.SKIPPED, now=NOW)
    assert stock_of(medication) == Decimal(10)


def test_a_missed_dose_answered_late_takes_off(patient):
    medication = medicate(patient)
    services.reminder_answer(reminder=dose(medication, status=ReminderStatus.MISSED, hours_ago=6), status="taken")
    assert stock_of(medication) == Decimal(9)


def test_the_taper_step_of_the_dose_day_is_taken(patient):
    taper = [{"from_day": 0, "dose_quantity": 4}, {"from_day": 31, "dose_quantity": 2}]
    medication = medicate(patient, frequency=Frequency.ONCE_DAILY, taper=taper, stock_quantity=Decimal(20))
    services.reminder_answer(reminder=dose(medication, hours_ago=1), status=ReminderStatus.TAKEN, now=NOW)
    assert stock_of(medication) == Decimal(18)  # 2026-06-01 is day 31: the second step


def test_stock_never_goes_below_zero(patient):
    medication = medicate(patient, stock_quantity=Decimal("0.5"))
    services.reminder_answer(reminder=dose(medication), status=ReminderStatus.TAKEN, now=NOW)
    assert stock_of(medication) == Decimal(0)


def test_untracked_stock_records_nothing_to_put_back(patient):
    medication = medicate(patient, stock_quantity=None)
    reminder = dose(medication)
    services.reminder_answer(reminder=reminder, status=ReminderStatus.TAKEN, now=NOW)
    reminder.refresh_from_db()
    assert reminder.stock_taken is None
    services.medication_refill(medication=medication, quantity=Decimal(30))
    services.reminder_answer(reminder=reminder, status=ReminderStatus.SKIPPED, now=NOW)
    assert stock_of(medication) == Decimal(30)


def test_api_link_and_logged_dose_each_take_off(patient, anon):
    medication = medicate(patient)
    client = client_for(patient)
    first, second = dose(medication, hours_ago=1), dose(medication, hours_ago=2)
    assert client.post(f"{URL}reminders/{first.pk}/taken/").status_code == 200
    assert client.post(f"{URL}reminders/{first.pk}/taken/").status_code == 200
    assert stock_of(medication) == Decimal(9)
    link = f"{URL}reminders/confirm/{services.confirm_token(second.pk)}/"
    assert anon.get(link).status_code == 200 and stock_of(medication) == Decimal(9)  # a scanner's GET
    assert anon.post(link).status_code == 200 and anon.post(link).status_code == 200
    assert stock_of(medication) == Decimal(8)
    assert client.post(f"{URL}{medication.pk}/doses/", {}, format="json").status_code == 201
    assert stock_of(medication) == Decimal(7)
    assert client.post(f"{URL}reminders/{first.pk}/skipped/").status_code == 200
    assert stock_of(medication) == Decimal(8)


def test_an_unrelated_edit_never_writes_back_a_stale_stock(patient):
    medication = medicate(patient)
    stale = Medication.objects.select_related("patient").get(pk=medication.pk)
    services.reminder_answer(reminder=dose(medication), status=ReminderStatus.TAKEN, now=NOW)  # 10 → 9
    services.medication_update(medication=stale, data={"notes": "with food"}, now=NOW)
    assert stock_of(medication) == Decimal(9)
    assert stale.stock_quantity == Decimal(9)
    services.medication_update(medication=stale, data={"stock_quantity": Decimal(40)}, now=NOW)  # a recount
    assert stock_of(medication) == Decimal(40)


# --- Refills ----------------------------------------------------------------------------------


def test_refill_route(patient, doctor):
    medication = medicate(patient)
    client = client_for(patient)
    response = client.post(f"{URL}{medication.pk}/refill/", {"quantity": 30}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["stock_quantity"] == 40
    untracked = medicate(patient, stock_quantity=None)
    assert client.post(f"{URL}{untracked.pk}/refill/", {"quantity": 2.5}, format="json").json()["stock_quantity"] == 2.5
    for bad in ({}, {"quantity": 0}, {"quantity": -3}, {"quantity": "30"}, {"quantity": True}, {"quantity": 1e12}):
        assert client.post(f"{URL}{medication.pk}/refill/", bad, format="json").status_code == 400, bad
    patient.assigned_doctor = doctor
    patient.save()
    assert client_for(doctor).post(f"{URL}{medication.pk}/refill/", {"quantity": 1}, format="json").status_code == 403
    other = client_for(PatientFactory())
    assert other.post(f"{URL}{medication.pk}/refill/", {"quantity": 1}, format="json").status_code == 404
    assert stock_of(medication) == Decimal(40)


def test_one_refill_soon_email_and_event_per_refill_cycle(patient, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(stock, "enqueue_check", lambda medication_id: None)  # checked by hand below
    medication = medicate(patient, refill_threshold_days=3, stock_quantity=Decimal(8))  # 4 days
    events = []

    def check() -> str:
        with django_capture_on_commit_callbacks(execute=True):  # the event goes after the commit
            return stock.stock_check(medication_id=medication.pk, now=NOW)

    stock_low.connect(lambda sender, signal, **kw: events.append(kw), weak=False, dispatch_uid="test-stock-low")
    try:
        assert check() == "enough"
        services.reminder_answer(reminder=dose(medication), status=ReminderStatus.TAKEN, now=NOW)
        services.reminder_answer(reminder=dose(medication, hours_ago=2), status=ReminderStatus.TAKEN, now=NOW)
        assert check() == "sent"  # 6 left: 3 days
        assert check() == "noop"
        assert tasks.check_stock(medication.pk) == "noop"  # a redelivered task
        (message,) = mail.outbox
        assert message.to == ["pat@example.test"]
        assert message.subject == "Refill soon: Metformin runs out on 2026-06-04"
        assert "6 × dose left" in message.body and "runs out on 2026-06-04, 3 days" in message.body
        assert events == [{"medication_id": medication.pk, "patient_id": patient.pk}]
        services.medication_refill(medication=medication, quantity=Decimal(1))  # a new cycle, 7: still 3 days
        assert check() == "sent"
        assert len(mail.outbox) == 2 and len(events) == 2
    finally:
        stock_low.disconnect(dispatch_uid="test-stock-low")


def test_refill_email_escapes_names(patient):
    medication = medicate(patient, stock_quantity=Decimal(1))
    Medication.objects.filter(pk=medication.pk).update(name="Tom & <Jerry>")  # skips validation
    assert stock.stock_check(medication_id=medication.pk, now=NOW) == "sent"
    (message,) = mail.outbox
    assert "Tom & <Jerry>" in message.body
    html = message.alternatives[0][0]
    assert "Tom &amp; &lt;Jerry&gt;" in html and "<Jerry>" not in html


def test_a_taken_answer_enqueues_the_check_after_commit(patient, monkeypatch, django_capture_on_commit_callbacks):
    medication = medicate(patient, stock_quantity=Decimal(3))
    ran = []
    monkeypatch.setattr(tasks.check_stock, "apply_async", lambda args: ran.append(tasks.check_stock(*args)))
    with django_capture_on_commit_callbacks(execute=True):
        services.reminder_answer(reminder=dose(medication), status=ReminderStatus.TAKEN)
    assert ran == ["sent"] and len(mail.outbox) == 1


def test_the_report_and_the_overview_show_stock_and_run_out_date(patient, doctor):
    from summaries import selectors as summaries
    from summaries.reports import content as reports

    patient.assigned_doctor = doctor
    patient.save()
    medication = medicate(patient)
    medicate(patient, name="Untracked", stock_quantity=None)
    rows = reports._medication_rows(summaries.report_data(patient=patient, days=30)["medications"])
    days, runs_out_on = stock.supply(Medication.objects.select_related("patient").get(pk=medication.pk))
    assert sorted(row[5] for row in rows) == [f"10 × dose left, runs out {runs_out_on.isoformat()}", "not tracked"]
    overview = client_for(doctor).get(f"/api/auth/patients/{patient.pk}/").json()
    shown = {m["name"]: m for m in overview["medications"]}
    assert shown["Metformin"]["stock_quantity"] == 10 and shown["Metformin"]["days_of_supply"] == days
    assert shown["Metformin"]["runs_out_on"] == runs_out_on.isoformat()
    assert shown["Untracked"]["stock_quantity"] is None and shown["Untracked"]["runs_out_on"] is None


def test_a_transient_smtp_failure_gives_the_refill_cycle_back(patient, monkeypatch):
    from core import mail as core_mail
    from core.mail import EmailDeliveryError

    medication = medicate(patient, stock_quantity=Decimal(1))

    def down(**kwargs):
        raise EmailDeliveryError("SMTPServerDisconnected")

    monkeypatch.setattr(core_mail, "send_templated_email", down)
    with pytest.raises(EmailDeliveryError):
        stock.stock_check(medication_id=medication.pk, now=NOW)
    medication.refresh_from_db()
    assert medication.refill_notified_at is None
    monkeypatch.undo()
    assert stock.stock_check(medication_id=medication.pk, now=NOW) == "sent"
