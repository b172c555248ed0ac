from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import PatientScopedQuerySet
from core.models import FastLoadModel
from core.validators import reject_html, validate_date_in_range
from medications import schedule

MAX_STOCK = Decimal("99999999.999")
REFILL_THRESHOLD_DAYS = (1, 60)


class Frequency(models.TextChoices):
    ONCE_DAILY = "once_daily", "Once daily"
    TWICE_DAILY = "twice_daily", "Twice daily"
    THREE_TIMES_DAILY = "three_times_daily", "Three times daily"
    AS_NEEDED = "as_needed", "As needed"
    CUSTOM = "custom", "Custom schedule"
    INTERVAL = "interval", "Every N hours"


MAX_DAYS = 365  # every_n_days, cycle_on_days, cycle_off_days
MAX_INTERVAL_HOURS = 24
MIN_QUANTITY = Decimal("0.001")
MAX_QUANTITY = Decimal("99999.999")
MAX_TAPER_STEPS = 60
MAX_TAPER_DAY = 3650
DAY_RULE_FIELDS = ("days_of_week", "every_n_days", "cycle_on_days")
INTERVAL_FIELDS = ("interval_hours", "interval_start", "interval_end")


class Medication(FastLoadModel):
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=200, validators=[reject_html])
    dosage = models.CharField(max_length=100, validators=[reject_html])
    frequency = models.CharField(max_length=32, choices=Frequency.choices)
    custom_schedule = models.JSONField(default=list, blank=True)
    start_date = models.DateField(validators=[validate_date_in_range])
    end_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    notes = models.TextField(blank=True, max_length=2000, validators=[reject_html])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The next scheduled dose not yet turned into a reminder row (aware UTC instant), or null when
    # nothing is scheduled (inactive, as needed, ended). Kept by the services and advanced by the
    # sweep, so the sweep reads only due medications through the partial index below.
    next_dose_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Stock and refills (SPEC part two). ``stock_quantity`` null: not tracked. Moved only by
    # conditional UPDATEs with F() (medications/services/stock.py), never read-modify-write.
    stock_quantity = models.DecimalField(
        max_digits=11,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_STOCK)],
        help_text="Units in stock (in dose_unit); null: not tracked.",
    )
    refill_threshold_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(REFILL_THRESHOLD_DAYS[0]), MaxValueValidator(REFILL_THRESHOLD_DAYS[1])],
        help_text="One 'refill soon' email when the supply falls to this many days.",
    )
    # When this refill cycle's "refill soon" email was claimed (null: not yet); a refill clears it.
    refill_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Regimen (SPEC part two). At most one day rule: weekdays, every N days, or an on/off cycle.
    days_of_week = models.JSONField(
        null=True, blank=True, default=None, help_text='Local weekdays of the doses, e.g. ["mon"]; null = every day.'
    )
    every_n_days = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text="Doses every N days counted from the start date (day 0 is a dose day).",
    )
    cycle_on_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)]
    )
    cycle_off_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)]
    )
    interval_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_HOURS)]
    )
    interval_start = models.TimeField(null=True, blank=True)
    interval_end = models.TimeField(null=True, blank=True)
    dose_quantity = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        default=Decimal(1),
        validators=[MinValueValidator(MIN_QUANTITY), MaxValueValidator(MAX_QUANTITY)],
    )
    dose_unit = models.CharField(max_length=32, default="dose", validators=[reject_html])
    taper = models.JSONField(
        null=True,
        blank=True,
        default=None,
        help_text='[{"from_day": 0, "dose_quantity": 40}, {"from_day": 7, "dose_quantity": 30}, …] or null.',
    )

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="med_patient_created_idx"),
            models.Index(fields=["patient", "is_active", "start_date"], name="med_patient_active_idx"),
            models.Index(fields=["next_dose_at"], name="med_next_dose_idx", condition=Q(next_dose_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="medication_end_after_start",
            ),
            models.CheckConstraint(condition=Q(frequency__in=Frequency.values), name="medication_frequency_valid"),
            models.CheckConstraint(
                condition=Q(every_n_days__gte=1, every_n_days__lte=MAX_DAYS), name="medication_every_n_days_range"
            ),
            models.CheckConstraint(
                condition=Q(cycle_on_days__isnull=True, cycle_off_days__isnull=True)
                | Q(
                    cycle_on_days__isnull=False,
                    cycle_off_days__isnull=False,
                    cycle_on_days__gte=1,
                    cycle_on_days__lte=MAX_DAYS,
                    cycle_off_days__gte=1,
                    cycle_off_days__lte=MAX_DAYS,
                ),
                name="medication_cycle_both_or_neither",
            ),
            models.CheckConstraint(
                # At most one day rule.
                condition=Q(days_of_week__isnull=True, every_n_days=1)
                | Q(days_of_week__isnull=True, cycle_on_days__isnull=True)
                | Q(every_n_days=1, cycle_on_days__isnull=True),
                name="medication_one_day_rule",
            ),
            models.CheckConstraint(
                condition=~Q(frequency=Frequency.AS_NEEDED)
                | Q(days_of_week__isnull=True, every_n_days=1, cycle_on_days__isnull=True),
                name="medication_as_needed_no_day_rule",
            ),
            models.CheckConstraint(
                condition=Q(
                    frequency=Frequency.INTERVAL,
                    interval_hours__isnull=False,
                    interval_start__isnull=False,
                    interval_end__isnull=False,
                    interval_hours__gte=1,
                    interval_hours__lte=MAX_INTERVAL_HOURS,
                    interval_end__gte=F("interval_start"),
                )
                | (
                    ~Q(frequency=Frequency.INTERVAL)
                    & Q(interval_hours__isnull=True, interval_start__isnull=True, interval_end__isnull=True)
                ),
                name="medication_interval_fields",
            ),
            models.CheckConstraint(condition=Q(dose_quantity__gt=0), name="medication_dose_quantity_positive"),
            models.CheckConstraint(
                condition=Q(stock_quantity__isnull=True) | Q(stock_quantity__gte=0),
                name="medication_stock_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    refill_threshold_days__gte=REFILL_THRESHOLD_DAYS[0],
                    refill_threshold_days__lte=REFILL_THRESHOLD_DAYS[1],
                ),
                name="medication_refill_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.dosage}"

    @property
    def reminder_times(self) -> list[str]:
        """The local "HH:MM" times at which reminders fire on a dose day."""
        return schedule.reminder_times(
            frequency=self.frequency,
            custom_schedule=self.custom_schedule,
            interval_hours=self.interval_hours,
            interval_start=self.interval_start,
            interval_end=self.interval_end,
        )

    def clean(self) -> None:
        """The regimen rules that span fields (SPEC part two), on the values as they will be
        stored: a PATCH is checked against what it does not change. Normalises
        ``days_of_week`` (week order) and ``taper`` (plain JSON numbers)."""
        errors: dict[str, list[str]] = {}
        self._clean_days_of_week(errors)
        self._clean_cycle(errors)
        self._clean_day_rules(errors)
        self._clean_interval(errors)
        self._clean_taper(errors)
        if errors:
            raise ValidationError(errors)

    def _clean_days_of_week(self, errors: dict[str, list[str]]) -> None:
        days = self.days_of_week
        if days is None:
            return
        if not isinstance(days, list) or not days or not all(isinstance(day, str) for day in days):
            errors["days_of_week"] = ['Give a list of 1 to 7 weekdays ("mon" … "sun"), or null for every day.']
        elif any(day not in schedule.WEEKDAYS for day in days):
            errors["days_of_week"] = [f"Weekdays are {', '.join(schedule.WEEKDAYS)}."]
        elif len(set(days)) != len(days):
            errors["days_of_week"] = ["Weekdays must be distinct."]
        else:
            self.days_of_week = [day for day in schedule.WEEKDAYS if day in days]

    def _clean_cycle(self, errors: dict[str, list[str]]) -> None:
        on, off = self.cycle_on_days, self.cycle_off_days
        if (on is None) != (off is None):
            missing = "cycle_off_days" if off is None else "cycle_on_days"
            errors[missing] = ["A cycle needs both cycle_on_days and cycle_off_days (or neither)."]

    def _clean_day_rules(self, errors: dict[str, list[str]]) -> None:
        given = [
            name
            for name, value in (
                ("days_of_week", self.days_of_week),
                ("every_n_days", None if self.every_n_days in (None, 1) else self.every_n_days),
                ("cycle_on_days", self.cycle_on_days),
            )
            if value is not None
        ]
        if self.frequency == Frequency.AS_NEEDED:
            for name in given:
                errors.setdefault(name, ["An as-needed medication has no dose days; leave this empty."])
        elif len(given) > 1:
            message = "Use one of days_of_week, every_n_days or a cycle, not several."
            for name in given:
                errors.setdefault(name, [message])

    def _clean_interval(self, errors: dict[str, list[str]]) -> None:
        if self.frequency != Frequency.INTERVAL:
            for name in INTERVAL_FIELDS:
                if getattr(self, name) is not None:
                    errors.setdefault(name, ['Only the "interval" frequency takes this; leave it null.'])
            return
        if self.interval_hours is None:
            errors.setdefault("interval_hours", ['The "interval" frequency needs interval_hours (1–24).'])
        if self.interval_start is None:
            self.interval_start = schedule.INTERVAL_DEFAULT_START
        if self.interval_end is None:
            self.interval_end = schedule.INTERVAL_DEFAULT_END
        if self.interval_end < self.interval_start:
            errors.setdefault("interval_end", ["interval_end cannot be before interval_start (same local day)."])

    def _clean_taper(self, errors: dict[str, list[str]]) -> None:
        taper = self.taper
        if taper is None:
            return
        message = (
            'Give a list of {"from_day": int ≥ 0, "dose_quantity": number > 0}, sorted by distinct '
            "from_day, the first one 0, or null."
        )
        if not isinstance(taper, list) or not taper or len(taper) > MAX_TAPER_STEPS:
            errors["taper"] = [f"{message} (1 to {MAX_TAPER_STEPS} steps)"]
            return
        steps = []
        for step in taper:
            if not isinstance(step, dict) or set(step) != {"from_day", "dose_quantity"}:
                errors["taper"] = [message]
                return
            day, quantity = step["from_day"], step["dose_quantity"]
            if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= MAX_TAPER_DAY:
                errors["taper"] = [f"from_day must be an integer from 0 to {MAX_TAPER_DAY}."]
                return
            if isinstance(quantity, bool) or not isinstance(quantity, int | float | Decimal):
                errors["taper"] = [message]
                return
            quantity = Decimal(str(quantity))
            if not MIN_QUANTITY <= quantity <= MAX_QUANTITY or quantity != quantity.quantize(MIN_QUANTITY):
                errors["taper"] = [f"dose_quantity must be from {MIN_QUANTITY} to {MAX_QUANTITY}, 3 decimals at most."]
                return
            steps.append({"from_day": day, "dose_quantity": float(quantity)})
        days = [step["from_day"] for step in steps]
        if days[0] != 0:
            errors["taper"] = ["The first taper step starts on day 0 (the start date)."]
        elif days != sorted(set(days)):
            errors["taper"] = ["Taper steps must be sorted by from_day, each day once."]
        else:
            self.taper = steps

    def is_current_on(self, today: datetime.date) -> bool:
        return self.is_active and self.start_date <= today and (self.end_date is None or today <= self.end_date)

    @property
    def owner_tzinfo(self) -> ZoneInfo:
        """The owner's zone. Lists annotate it (``patient_timezone``) instead of loading the owner."""
        zone = self.__dict__.get("patient_timezone")
        return self.patient.tzinfo if zone is None else ZoneInfo(zone or "UTC")

    @property
    def is_current(self) -> bool:
        """Current on the owner's local today."""
        return self.is_current_on(timezone.now().astimezone(self.owner_tzinfo).date())


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    TAKEN = "taken", "Taken"
    SKIPPED = "skipped", "Skipped"
    MISSED = "missed", "Missed"
    FAILED = "failed", "Failed"


class ReminderKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled dose"
    LOGGED = "logged", "Logged dose (as needed / unscheduled)"


class Reminder(FastLoadModel):
    """One dose: a scheduled reminder (unique per medication and time) or a logged dose."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="reminders")
    # Denormalised owner: scoping and per-patient aggregation without a join.
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices, default=ReminderKind.SCHEDULED)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Delivery bookkeeping (never shown in the API). A sweep claims a batch of due rows by writing
    # its own token with a conditional UPDATE, so two sweeps never email the same dose; ``attempts``
    # is compared-and-swapped by each retry so a redelivered retry message sends nothing.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # Missed-dose alerts: set when the dose becomes missed and someone is to be told (an accepted
    # caregiver, or the doctor with ``notify_doctor_on_missed``); a sweep claims the flagged rows
    # (conditional UPDATE alert_due → false, writing its token) and reports them once.
    alert_due = models.BooleanField(default=False, editable=False)
    # Snooze: one more email at ``snoozed_until`` while the dose is still ``sent``. The sweep claims
    # it with a conditional UPDATE that sets ``snooze_sent_at`` (and its token in ``nudge_claim``);
    # snoozing again moves ``snoozed_until`` past ``snooze_sent_at``, which makes it due again.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    nudge_claim = models.UUIDField(null=True, blank=True, editable=False)
    # Remind again (profile ``remind_again_minutes``): when the one follow-up email was claimed.
    followup_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What a "taken" answer (or a logged dose) took off the medication's stock, so a correction to
    # "skipped" puts back exactly that, once; null: nothing taken off.
    stock_taken = models.DecimalField(max_digits=11, decimal_places=3, null=True, blank=True, editable=False)
    alert_claim = models.UUIDField(null=True, blank=True, editable=False)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-scheduled_for", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["medication", "scheduled_for"],
                condition=Q(kind="scheduled"),
                name="reminder_one_per_scheduled_dose",
            ),
            models.CheckConstraint(condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="reminder_status_due_idx"),
            models.Index(fields=["patient", "-scheduled_for", "-id"], name="reminder_patient_time_idx"),
            models.Index(fields=["claim"], name="reminder_claim_idx", condition=Q(claim__isnull=False)),
            models.Index(fields=["patient"], name="reminder_alert_due_idx", condition=Q(alert_due=True)),
            models.Index(
                fields=["snoozed_until"],
                name="reminder_snoozed_idx",
                condition=Q(status="sent", snoozed_until__isnull=False),
            ),
            models.Index(
                fields=["alert_claim"], name="reminder_alert_claim_idx", condition=Q(alert_claim__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} ({self.status})"


class CalendarFeed(models.Model):
    """A patient's calendar subscription (``/api/calendar/<token>.ics``).

    The token is never stored: it is derived from ``seed`` with the server's ``SECRET_KEY``
    (``medications.ics.feed_token``), so the API can show the URL again, and a copy of the
    database alone does not open any feed. The lookup is by ``token_hash`` (SHA-256 of the
    token). Issuing a new feed replaces the seed: the old URL stops working at once.
    """

    patient = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    seed = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    show_names = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar feed of patient {self.patient_id}"
