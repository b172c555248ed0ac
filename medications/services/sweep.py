"""The reminder engine: one sweep turns due doses into reminder rows, emails them, and closes
unanswered ones.

Cost grows with the number of due doses, not with the number of medications: medications are
read through the partial index on ``next_dose_at`` (only due ones), reminders through the
``(status, scheduled_for)`` index. Safe to run concurrently and repeatedly:

- rows: ``bulk_create(ignore_conflicts=True)`` against the unique (medication, scheduled_for)
  constraint, and (PostgreSQL) ``SELECT … FOR UPDATE SKIP LOCKED`` so two sweeps split the work;
- emails: a batch is claimed by a conditional UPDATE that writes the sweep's own token only on
  rows still unclaimed; a sweep sends only rows carrying its token, so two sweeps, two beats or a
  redelivered task never email one dose twice;
- retries: each retry compares-and-swaps ``attempts`` (see ``reminder_retry_delivery``);
- snooze and follow-up emails: claimed the same way (see ``medications.services.nudges``);
- missed-dose alerts: flagged in the UPDATE that makes a dose missed, claimed like emails (see
  ``medications.services.alerts``).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from accounts.models import Role
from accounts.readcache import data_changed
from core.mail import EmailDeliveryError
from medications.events import dose_due, send_on_commit
from medications.models import Medication, Reminder, ReminderKind, ReminderStatus
from medications.schedule import REGIMEN_COLUMNS, Regimen, doses, next_dose_after
from medications.services.alerts import report_missed, someone_to_tell
from medications.services.delivery import EMAIL_FIELDS, send_batch, send_reminder_email
from medications.services.doses import ANSWER_WINDOW
from medications.services.nudges import deliver_follow_ups, deliver_snoozed

logger = logging.getLogger(__name__)

CATCH_UP = datetime.timedelta(hours=2)  # later than this: recorded missed, no email
MAX_BACKFILL = datetime.timedelta(days=7)  # after a long outage, rows for at most this far back
CLAIM_TTL = datetime.timedelta(minutes=30)  # a claim older than this (crashed sweep) is taken over
MEDICATION_BATCH = 1000
SEND_BATCH = 250
CLOSE_BATCH = 1000
MAX_BATCHES = 10_000

RetryHook = Callable[[int, uuid.UUID], None]


@dataclass
class SweepResult:
    medications: int = 0
    created: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    missed: int = 0
    snoozed: int = 0
    followed_up: int = 0
    alerts: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _enqueue_retry(reminder_id: int, claim: uuid.UUID) -> None:
    from medications.tasks import retry_reminder_email  # tasks call services, not the reverse, at import

    try:
        retry_reminder_email.apply_async(args=(reminder_id, str(claim)), countdown=30)
    except Exception:  # broker down: the claim expires after CLAIM_TTL and a later sweep retries
        logger.warning("could not enqueue a retry for reminder %s", reminder_id, exc_info=True)


def sweep(*, now: datetime.datetime | None = None, on_transient: RetryHook | None = None) -> SweepResult:
    """One sweep as if the clock read ``now``."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("sweep() needs an aware datetime")
    result = SweepResult()
    materialize_due_doses(now=now, result=result)
    deliver_due_reminders(now=now, result=result, on_transient=on_transient or _enqueue_retry)
    result.snoozed += deliver_snoozed(now=now)
    result.followed_up += deliver_follow_ups(now=now)
    result.missed += close_unanswered(now=now)
    result.alerts += report_missed(now=now)
    logger.info("reminder sweep at %s: %s", now.isoformat(), result.as_dict())
    return result


def _doses_for(medication: Medication, *, now: datetime.datetime) -> tuple[list[datetime.datetime], object]:
    """The due dose instants of one medication (≤ now) and its next dose after now."""
    regimen = Regimen.of(medication)
    if not regimen.times:
        return [], None
    tz = medication.patient.tzinfo
    floor = now - MAX_BACKFILL
    first = medication.next_dose_at
    due = [first] if first >= floor else []
    due.extend(dose.at for dose in doses(regimen, tz=tz, after=max(first, floor), until=now))
    return due, next_dose_after(regimen, tz=tz, after=now)


def materialize_due_doses(*, now: datetime.datetime, result: SweepResult) -> None:
    """Create the reminder rows of every dose due by ``now`` and move ``next_dose_at`` on."""
    for _ in range(MAX_BATCHES):
        with transaction.atomic():
            medications = list(
                Medication.objects.filter(next_dose_at__lte=now)
                .select_related("patient")  # the patient's zone
                .only(
                    "id",
                    "patient_id",
                    *REGIMEN_COLUMNS,
                    "next_dose_at",
                    "patient__timezone",
                )
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_dose_at", "id")[:MEDICATION_BATCH]
            )
            if not medications:
                return
            rows: list[Reminder] = []
            moves: list[tuple[int, datetime.datetime | None]] = []
            for medication in medications:
                due, upcoming = _doses_for(medication, now=now)
                for instant in due:
                    late = instant < now - CATCH_UP
                    rows.append(
                        Reminder(
                            medication_id=medication.pk,
                            patient_id=medication.patient_id,
                            kind=ReminderKind.SCHEDULED,
                            scheduled_for=instant,
                            status=ReminderStatus.MISSED if late else ReminderStatus.PENDING,
                        )
                    )
                moves.append((medication.pk, upcoming))
            Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            _move_next_doses(moves)
            data_changed(*{medication.patient_id for medication in medications})  # bulk: no signals
        result.medications += len(medications)
        result.created += len(rows)  # attempted; duplicates were ignored by the constraint
        if len(medications) < MEDICATION_BATCH:
            return


def _move_next_doses(moves: list[tuple[int, datetime.datetime | None]]) -> None:
    """Set each medication's ``next_dose_at``: one UPDATE for the batch on PostgreSQL, one per
    distinct new value elsewhere (SQLite, the tests' default)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE medications_medication AS m SET next_dose_at = v.next_dose_at "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, next_dose_at) WHERE m.id = v.id",
                [[pk for pk, _ in moves], [upcoming for _, upcoming in moves]],
            )
        return
    by_value: dict[datetime.datetime | None, list[int]] = defaultdict(list)
    for pk, upcoming in moves:
        by_value[upcoming].append(pk)
    for upcoming, ids in by_value.items():
        Medication.objects.filter(pk__in=ids).update(next_dose_at=upcoming)


def _deliverable_q(now: datetime.datetime) -> Q:
    return Q(
        kind=ReminderKind.SCHEDULED,
        status=ReminderStatus.PENDING,
        sent_at__isnull=True,
        scheduled_for__gte=now - CATCH_UP,
        scheduled_for__lte=now,
    )


def _claimable_q(now: datetime.datetime) -> Q:
    return Q(claim__isnull=True) | Q(claimed_at__lt=now - CLAIM_TTL)


def _reminded_by_email_q() -> Q:
    return Q(patient__email_reminders_enabled=True) & ~Q(patient__email="")


def deliver_due_reminders(*, now: datetime.datetime, result: SweepResult, on_transient: RetryHook) -> None:
    """Claim due, unsent reminders in batches and email them over one SMTP connection each."""
    candidates = (
        Reminder.objects.filter(_deliverable_q(now), _claimable_q(now))
        .filter(
            _reminded_by_email_q() | Q(patient__push_reminders_enabled=True),
            patient__role=Role.PATIENT,  # a doctor never gets reminders, whoever owns the row
            patient__is_active=True,
        )
        .order_by("scheduled_for", "id")
    )
    for _ in range(MAX_BATCHES):
        ids = list(candidates.values_list("id", flat=True)[:SEND_BATCH])
        if not ids:
            return
        token = uuid.uuid4()
        # The claim: only columns of the row itself in the WHERE clause, so PostgreSQL re-checks
        # them after waiting for a concurrent claimer's row lock (and then skips the row).
        Reminder.objects.filter(_deliverable_q(now), _claimable_q(now), pk__in=ids).update(
            claim=token, claimed_at=now, attempts=1
        )
        _send_claimed(token=token, now=now, result=result, on_transient=on_transient)


def _send_claimed(*, token: uuid.UUID, now: datetime.datetime, result: SweepResult, on_transient: RetryHook) -> None:
    batch = list(
        Reminder.objects.filter(claim=token)
        .select_related("medication", "patient")
        .only(*EMAIL_FIELDS)
        .order_by("scheduled_for", "id")
    )
    if not batch:
        return
    patient_ids = {reminder.patient_id for reminder in batch}
    # A patient reminded by push only is sent once the due signal below hands the dose on.
    by_email = [r for r in batch if r.patient.email_reminders_enabled and r.patient.email]
    outcome = send_batch(by_email)
    sent = [r.pk for r in batch if not (r.patient.email_reminders_enabled and r.patient.email)] + outcome.sent
    mark_sent(ids=sent, claim=token, now=now)
    if outcome.failed:
        Reminder.objects.filter(pk__in=outcome.failed, claim=token, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.FAILED
        )
    if sent or outcome.failed:
        data_changed(*patient_ids)  # bulk: no signals
    for reminder_id in outcome.transient:
        on_transient(reminder_id, token)
    # Once per claimed dose, whatever its email did: one signal for the batch.
    send_on_commit(dose_due, sender=Reminder, reminder_ids=[reminder.pk for reminder in batch])
    result.sent += len(sent)
    result.failed += len(outcome.failed)
    result.retrying += len(outcome.transient)


def mark_sent(*, ids: list[int], claim: uuid.UUID, now: datetime.datetime) -> None:
    if not ids:
        return
    # A dose answered in the app while its email was on the way keeps its answer.
    Reminder.objects.filter(pk__in=ids, claim=claim).update(
        sent_at=now,
        status=Case(
            When(status=ReminderStatus.PENDING, then=Value(ReminderStatus.SENT)),
            default=F("status"),
        ),
    )


def close_unanswered(*, now: datetime.datetime) -> int:
    """Doses still unanswered 4 hours after their time become missed (flagged for an alert when
    someone is to be told), in batches, each telling the read cache whose data it changed."""
    stale = Reminder.objects.filter(
        kind=ReminderKind.SCHEDULED,
        status__in=(ReminderStatus.PENDING, ReminderStatus.SENT),
        scheduled_for__lt=now - ANSWER_WINDOW,
    )
    closed = 0
    for _ in range(MAX_BATCHES):
        rows = list(stale.order_by().values_list("id", "patient_id")[:CLOSE_BATCH])
        if not rows:
            break
        closed += stale.filter(pk__in=[pk for pk, _patient in rows]).update(
            status=ReminderStatus.MISSED, alert_due=someone_to_tell()
        )
        data_changed(*{patient_id for _pk, patient_id in rows})  # bulk: no signals
        if len(rows) < CLOSE_BATCH:
            break
    return closed


def reminder_retry_delivery(
    *, reminder_id: int, claim: str, attempt: int, final: bool, now: datetime.datetime | None = None
) -> str:
    """One retry of a transient delivery failure.

    ``attempt`` is the number of tries already made; the compare-and-swap on ``attempts`` lets
    exactly one execution of each retry through (a redelivered message finds it moved on).
    Raises ``EmailDeliveryError`` for a transient failure that should be retried again.
    """
    now = now or timezone.now()
    won = Reminder.objects.filter(
        pk=reminder_id, claim=claim, status=ReminderStatus.PENDING, sent_at__isnull=True, attempts=attempt
    ).update(attempts=attempt + 1, claimed_at=now)
    if won != 1:
        return "noop"
    reminder = Reminder.objects.select_related("medication", "patient").get(pk=reminder_id)
    patient = reminder.patient
    if not (patient.email_reminders_enabled and patient.is_active and patient.email and patient.is_patient):
        return "noop"
    try:
        send_reminder_email(reminder)
    except EmailDeliveryError as exc:
        if exc.permanent or final:
            Reminder.objects.filter(pk=reminder_id, claim=claim, status=ReminderStatus.PENDING).update(
                status=ReminderStatus.FAILED
            )
            data_changed(reminder.patient_id)
            logger.warning("reminder %s: delivery failed for good (%s)", reminder_id, exc)
            return "failed"
        raise
    mark_sent(ids=[reminder_id], claim=uuid.UUID(claim), now=now)
    data_changed(reminder.patient_id)
    return "sent"
