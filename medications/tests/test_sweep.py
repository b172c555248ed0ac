"""The reminder sweep: rows, emails, catch-up, missed doses, idempotency, failures."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import skip_or_fail
from core.mail import EmailDeliveryError
from medications import services
from medications.models import Frequency, Medication, Reminder, ReminderStatus
from medications.services.sweep import SweepResult, materialize_due_doses, reminder_retry_delivery, sweep
from medications.tasks import send_due_reminders
from medications.tests.factories import MedicationFactory

UTC = datetime.UTC
pytestmark = pytest.mark.django_db

# 2026-06-01 08:30 in Kolkata (03:00 UTC).
T0 = datetime.datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "medications.tests.backends.ScriptedBackend"
    settings.PUBLIC_URL = "https://meditrack.example"


def create(patient, *, times=("09:00",), now=T0 - datetime.timedelta(hours=1), **fields) -> Medication:
    data = {
        "name": "Metformin",
        "dosage": "500 mg",
        "frequency": Frequency.CUSTOM,
        "custom_schedule": list(times),
        "start_date": datetime.date(2026, 5, 1),
    }
    data.update(fields)
    return services.medication_create(patient=patient, data=data, now=now)


def no_retry(reminder_id, claim):  # pragma: no cover - a test fails if it is called
    raise AssertionError(f"unexpected retry of {reminder_id}")


@pytest.fixture
def kolkata_patient():
    return PatientFactory(timezone="Asia/Kolkata", email="asha@example.test", first_name="Asha")


def test_due_dose_is_emailed_once_at_its_local_time(kolkata_patient):
    medication = create(kolkata_patient)  # 09:00 IST = 03:30 UTC
    assert medication.next_dose_at == datetime.datetime(2026, 6, 1, 3, 30, tzinfo=UTC)

    before = sweep(now=T0 + 29 * MINUTE, on_transient=no_retry)
    assert before.created == 0 and mail.outbox == []

    first = sweep(now=T0 + 31 * MINUTE, on_transient=no_retry)
    assert (first.created, first.sent) == (1, 1)
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.scheduled_for == datetime.datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    assert reminder.sent_at == T0 + 31 * MINUTE
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["asha@example.test"]
    assert mail.outbox[0].subject == "Reminder: Metformin 500 mg at 09:00"

    # Replays and the next ticks: nothing new until tomorrow's 09:00 IST.
    for minutes in (31, 36, 41, 24 * 60 + 29):
        again = sweep(now=T0 + minutes * MINUTE, on_transient=no_retry)
        assert again.sent == 0
    assert len(mail.outbox) == 1
    medication.refresh_from_db()
    assert medication.next_dose_at == datetime.datetime(2026, 6, 2, 3, 30, tzinfo=UTC)

    sweep(now=T0 + (24 * 60 + 31) * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 2
    assert Reminder.objects.count() == 2


def test_email_content_text_html_link_and_escaping(kolkata_patient):
    # Factories skip validation, so the stored values can be hostile: the HTML part must escape them.
    medication = MedicationFactory(
        patient=kolkata_patient,
        name='<script>alert("x")</script>',
        dosage="5 > 3 & 'two'",
        frequency=Frequency.ONCE_DAILY,
        start_date=datetime.date(2026, 5, 1),
    )
    Medication.objects.filter(pk=medication.pk).update(next_dose_at=T0)  # 08:30 IST
    sweep(now=T0, on_transient=no_retry)
    (message,) = mail.outbox
    reminder = Reminder.objects.get()
    assert "\n" not in message.subject and "08:30" in message.subject
    assert '<script>alert("x")</script>' in message.body  # plain text: verbatim
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "5 &gt; 3 &amp; &#x27;two&#x27;" in html
    assert "08:30" in message.body and "2026-06-01" in message.body and "Asia/Kolkata" in message.body
    link_prefix = "https://meditrack.example/api/medications/reminders/confirm/"
    assert link_prefix in message.body and link_prefix in html
    token = message.body.split(link_prefix)[1].split("/")[0]
    assert services.CONFIRM_LINK.object_id(token) == reminder.pk


def test_catch_up_sends_up_to_two_hours_late_and_records_older_as_missed():
    patient = PatientFactory(timezone="UTC")
    medication = create(patient, times=("06:00", "08:00", "10:00"), now=T0 - datetime.timedelta(hours=4))
    assert medication.next_dose_at == datetime.datetime(2026, 5, 31, 6, 0, tzinfo=UTC) + datetime.timedelta(days=1)
    # The system was down from 05:00; it comes back at 10:30: 06:00 is 4h30 late (missed, no
    # email), 08:00 is 2h30 late (missed), 10:00 is 30 min late (sent).
    result = sweep(now=datetime.datetime(2026, 6, 1, 10, 30, tzinfo=UTC), on_transient=no_retry)
    statuses = dict(Reminder.objects.values_list("scheduled_for__hour", "status"))
    assert statuses == {6: ReminderStatus.MISSED, 8: ReminderStatus.MISSED, 10: ReminderStatus.SENT}
    assert result.sent == 1 and len(mail.outbox) == 1 and "10:00" in mail.outbox[0].subject


def test_exactly_two_hours_late_is_still_sent():
    patient = PatientFactory(timezone="UTC")
    create(patient, times=("08:00",), now=T0)
    sweep(now=datetime.datetime(2026, 6, 1, 10, 0, tzinfo=UTC), on_transient=no_retry)
    assert Reminder.objects.get().status == ReminderStatus.SENT


def test_unanswered_dose_becomes_missed_after_four_hours(kolkata_patient):
    create(kolkata_patient)
    due = datetime.datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    sweep(now=due, on_transient=no_retry)
    sweep(now=due + datetime.timedelta(hours=4), on_transient=no_retry)
    assert Reminder.objects.get().status == ReminderStatus.SENT  # exactly 4h: not yet
    result = sweep(now=due + datetime.timedelta(hours=4, minutes=1), on_transient=no_retry)
    assert result.missed == 1
    assert Reminder.objects.get().status == ReminderStatus.MISSED


def test_answered_doses_never_become_missed(kolkata_patient):
    create(kolkata_patient)
    due = datetime.datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    sweep(now=due, on_transient=no_retry)
    services.reminder_answer(reminder=Reminder.objects.get(), status=ReminderStatus.SKIPPED, now=due)
    sweep(now=due + datetime.timedelta(hours=5), on_transient=no_retry)
    assert Reminder.objects.get().status == ReminderStatus.SKIPPED


def test_email_reminders_disabled_creates_rows_without_email():
    patient = PatientFactory(email_reminders_enabled=False)
    create(patient, times=("03:00",))
    result = sweep(now=T0, on_transient=no_retry)
    assert result.created == 1 and result.sent == 0 and mail.outbox == []
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.PENDING and reminder.sent_at is None


def test_assigned_doctor_gets_no_reminder():
    doctor = DoctorFactory(email="doc@example.test")
    patient = PatientFactory(assigned_doctor=doctor, email="pat@example.test")
    create(patient, times=("03:00",))
    sweep(now=T0, on_transient=no_retry)
    assert [message.to for message in mail.outbox] == [["pat@example.test"]]


def test_medication_owned_by_a_doctor_account_is_never_emailed():
    doctor = DoctorFactory()
    MedicationFactory(patient=doctor, next_dose_at=T0)
    sweep(now=T0, on_transient=no_retry)
    assert mail.outbox == []


def test_one_bad_address_never_stops_the_others():
    good = [PatientFactory(email=f"ok{i}@example.test") for i in range(3)]
    refused = PatientFactory(email="refused@example.test")
    flaky = PatientFactory(email="flaky@example.test")
    for patient in [good[0], refused, flaky, *good[1:]]:
        create(patient, times=("03:00",))
    retries = []
    result = sweep(now=T0, on_transient=lambda rid, claim: retries.append((rid, claim)))
    assert result.sent == 3 and result.failed == 1 and result.retrying == 1
    assert sorted(message.to[0] for message in mail.outbox) == [f"ok{i}@example.test" for i in range(3)]
    assert Reminder.objects.get(patient=refused).status == ReminderStatus.FAILED
    flaky_reminder = Reminder.objects.get(patient=flaky)
    assert flaky_reminder.status == ReminderStatus.PENDING and retries == [(flaky_reminder.pk, flaky_reminder.claim)]
    # A later sweep leaves the claimed row to its retry task (no second email).
    sweep(now=T0 + 5 * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 3


def test_transient_failure_retries_then_sends_exactly_once():
    patient = PatientFactory(email="flaky@example.test")
    create(patient, times=("03:00",))
    retries = []
    sweep(now=T0, on_transient=lambda rid, claim: retries.append((rid, str(claim))))
    ((reminder_id, claim),) = retries
    # Retry 1 (attempt 1 was the sweep): still failing → raise, so Celery backs off and retries.
    with pytest.raises(EmailDeliveryError):
        reminder_retry_delivery(reminder_id=reminder_id, claim=claim, attempt=1, final=False)
    # The address recovers; retry 2 sends.
    patient.email = "recovered@example.test"
    patient.save()
    assert reminder_retry_delivery(reminder_id=reminder_id, claim=claim, attempt=2, final=False) == "sent"
    assert [m.to for m in mail.outbox] == [["recovered@example.test"]]
    # A redelivered copy of either retry message sends nothing.
    assert reminder_retry_delivery(reminder_id=reminder_id, claim=claim, attempt=2, final=False) == "noop"
    assert reminder_retry_delivery(reminder_id=reminder_id, claim=claim, attempt=1, final=False) == "noop"
    assert len(mail.outbox) == 1
    assert Reminder.objects.get(pk=reminder_id).status == ReminderStatus.SENT


def test_transient_failure_after_last_try_is_failed():
    patient = PatientFactory(email="flaky@example.test")
    create(patient, times=("03:00",))
    retries = []
    sweep(now=T0, on_transient=lambda rid, claim: retries.append((rid, str(claim))))
    ((reminder_id, claim),) = retries
    assert reminder_retry_delivery(reminder_id=reminder_id, claim=claim, attempt=1, final=True) == "failed"
    assert Reminder.objects.get(pk=reminder_id).status == ReminderStatus.FAILED
    # A retry carrying another sweep's claim token never sends.
    assert reminder_retry_delivery(reminder_id=reminder_id, claim=str(uuid.uuid4()), attempt=2, final=True) == "noop"


def test_stale_claim_of_a_crashed_sweep_is_taken_over_once():
    patient = PatientFactory()
    create(patient, times=("03:00",))
    sweep(now=T0 - MINUTE, on_transient=no_retry)  # nothing due yet
    # A sweep that crashed after claiming: rows created and claimed, no email.
    from medications.services.sweep import materialize_due_doses

    materialize_due_doses(now=T0, result=services.SweepResult())
    Reminder.objects.update(claim=uuid.uuid4(), claimed_at=T0, attempts=1)
    sweep(now=T0 + 10 * MINUTE, on_transient=no_retry)
    assert mail.outbox == []  # the claim is fresh: maybe that sweep is still sending
    sweep(now=T0 + 31 * MINUTE, on_transient=no_retry)
    sweep(now=T0 + 36 * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 1


def test_backfill_after_a_long_outage_is_bounded_and_idempotent():
    patient = PatientFactory(timezone="America/New_York")
    create(patient, times=("08:00", "20:00"), now=T0 - datetime.timedelta(days=10))
    now = datetime.datetime(2026, 6, 1, 0, 30, tzinfo=UTC)  # 20:30 EDT on May 31
    result = sweep(now=now, on_transient=no_retry)
    sweep(now=now, on_transient=no_retry)
    rows = Reminder.objects.order_by("scheduled_for")
    assert rows.first().scheduled_for >= now - datetime.timedelta(days=7)
    assert result.created == rows.count() == 14  # a week of twice-daily doses, once
    assert list(rows.values_list("status", flat=True)) == [ReminderStatus.MISSED] * 13 + [ReminderStatus.SENT]
    assert len(mail.outbox) == 1 and "20:00" in mail.outbox[0].subject


def test_new_york_spring_forward_dose_via_the_sweep():
    patient = PatientFactory(timezone="America/New_York")
    start = datetime.datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    create(patient, times=("02:30",), now=start, start_date=datetime.date(2026, 3, 1))
    # 02:30 does not exist on 2026-03-08: it fires at 03:00 EDT = 07:00 UTC, once.
    for minute in range(0, 60, 5):
        sweep(now=datetime.datetime(2026, 3, 8, 6, 30, tzinfo=UTC) + minute * MINUTE, on_transient=no_retry)
    reminder = Reminder.objects.get()
    assert reminder.scheduled_for == datetime.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert len(mail.outbox) == 1 and "03:00" in mail.outbox[0].subject


def test_new_york_fall_back_dose_via_the_sweep_fires_once():
    patient = PatientFactory(timezone="America/New_York")
    start = datetime.datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    create(patient, times=("01:30",), now=start, start_date=datetime.date(2026, 10, 1))
    # 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST): one email.
    for minute in range(0, 120, 5):
        sweep(now=datetime.datetime(2026, 11, 1, 5, 0, tzinfo=UTC) + minute * MINUTE, on_transient=no_retry)
    assert Reminder.objects.count() == 1 and len(mail.outbox) == 1


def test_nothing_due_costs_a_fixed_number_of_queries(django_assert_num_queries):
    patients = PatientFactory.create_batch(5)
    for patient in patients:
        for hour in ("09:00", "10:00", "11:00"):
            create(patient, times=(hour,))
    # due medications (inside SAVEPOINT/RELEASE: the batch transaction), due reminders, due snoozes,
    # remind-again settings of open doses, close unanswered, flagged missed-dose alerts
    with django_assert_num_queries(8):
        result = sweep(now=T0 + MINUTE, on_transient=no_retry)
    assert result.created == 0


def test_due_sweep_query_count_does_not_grow_with_doses(django_assert_max_num_queries):
    for _ in range(20):
        create(PatientFactory(), times=("03:00",))
    with django_assert_max_num_queries(14):
        result = sweep(now=T0, on_transient=no_retry)
    assert result.sent == 20


def test_a_batch_of_rows_costs_the_same_statements_whatever_its_next_doses(django_assert_num_queries):
    """PostgreSQL moves the batch's next doses with one UPDATE (SQLite, the plain run's database:
    one per distinct new value, which the test above pins for a single value)."""
    if connection.vendor != "postgresql":
        skip_or_fail("one UPDATE per batch is the PostgreSQL path (set DATABASE_URL)")
    for index in range(12):  # 12 patients due at 03:0x UTC, each with its own next dose
        create(PatientFactory(timezone="UTC"), times=(f"03:{index:02d}", f"{10 + index}:00"))
    result = SweepResult()
    # savepoint, the due medications, the rows, the next doses, release
    with django_assert_num_queries(5):
        materialize_due_doses(now=T0 + 15 * MINUTE, result=result)
    assert (result.medications, result.created) == (12, 12)
    next_doses = set(Medication.objects.values_list("next_dose_at", flat=True))
    assert next_doses == {datetime.datetime(2026, 6, 1, 10 + index, 0, tzinfo=UTC) for index in range(12)}


def test_management_command_replays_are_idempotent(kolkata_patient, capsys):
    create(kolkata_patient)
    for _ in range(3):
        call_command("send_due_reminders", at="2026-06-01T03:31:00+00:00")
    call_command("send_due_reminders", at="2026-06-01T09:01:00+05:30")  # the same instant, Kolkata offset
    assert len(mail.outbox) == 1
    assert '"sent": 1' in capsys.readouterr().out.splitlines()[0]


@pytest.mark.parametrize("bad", ["yesterday", "2026-06-01T03:31:00", "2026-13-01T00:00:00Z"])
def test_management_command_rejects_bad_at(bad):
    with pytest.raises(CommandError):
        call_command("send_due_reminders", at=bad)


def test_celery_task_called_twice_sends_once(kolkata_patient):
    create(kolkata_patient)
    first = send_due_reminders("2026-06-01T03:35:00+00:00")
    second = send_due_reminders("2026-06-01T03:35:00+00:00")
    assert first["sent"] == 1 and second["sent"] == 0 and len(mail.outbox) == 1


def test_time_zone_change_moves_the_next_dose(kolkata_patient):
    medication = create(kolkata_patient, now=datetime.datetime(2026, 6, 1, 3, 0, tzinfo=UTC))
    assert medication.next_dose_at is not None
    kolkata_patient.timezone = "Europe/London"
    kolkata_patient.save()
    medication.refresh_from_db()
    assert medication.next_dose_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") == "09:00"


@pytest.mark.parametrize(
    ("fields", "dose_days"),
    [
        ({"days_of_week": ["mon"]}, [datetime.date(2026, 6, 1), datetime.date(2026, 6, 8)]),  # 2026-06-01: Monday
        ({"every_n_days": 4}, [datetime.date(2026, 6, 2), datetime.date(2026, 6, 6), datetime.date(2026, 6, 10)]),
        (
            {"cycle_on_days": 2, "cycle_off_days": 3},  # day 0 = 2026-05-01; 2026-06-01 is day 31
            [
                datetime.date(2026, 6, 1),
                datetime.date(2026, 6, 5),
                datetime.date(2026, 6, 6),
                datetime.date(2026, 6, 10),
                datetime.date(2026, 6, 11),
            ],
        ),
    ],
)
def test_sweep_creates_rows_only_on_dose_days(kolkata_patient, fields, dose_days):
    create(kolkata_patient, **fields)
    for hours in range(0, 11 * 24):  # hourly, 2026-06-01 03:00 UTC … 2026-06-12 02:00 UTC
        sweep(now=T0 + datetime.timedelta(hours=hours), on_transient=no_retry)
    rows = Reminder.objects.order_by("scheduled_for")
    assert [row.scheduled_for.astimezone(ZoneInfo("Asia/Kolkata")).date() for row in rows] == dose_days
    assert len(mail.outbox) == len(dose_days)  # each one emailed once


def test_interval_doses_via_the_sweep(kolkata_patient):
    create(kolkata_patient, frequency=Frequency.INTERVAL, custom_schedule=[], interval_hours=6, now=T0)
    for minutes in range(0, 24 * 60, 30):
        sweep(now=T0 + minutes * MINUTE, on_transient=no_retry)
    local = [
        r.scheduled_for.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M")
        for r in Reminder.objects.order_by("scheduled_for")
    ]
    assert local == ["14:00", "20:00", "08:00"]  # after 08:30 IST on 06-01, until 08:30 IST on 06-02
