from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.models import FastLoadModel
from core.validators import reject_html, validate_date_in_range, validate_phone, validate_timezone

REMIND_AGAIN_MINUTES = (10, 240)


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    DOCTOR = "doctor", "Doctor"


class UserQuerySet(models.QuerySet):
    def patients(self) -> UserQuerySet:
        return self.filter(role=Role.PATIENT)

    def verified_doctors(self) -> UserQuerySet:
        return self.filter(role=Role.DOCTOR, is_verified_doctor=True, is_active=True)

    def assigned_to(self, doctor: User) -> UserQuerySet:
        """The patients who chose ``doctor``; none while the doctor is unverified."""
        if not doctor.is_verified_doctor:
            return self.none()
        return self.filter(role=Role.PATIENT, assigned_doctor=doctor)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username):
        """Usernames are unique whatever their case (``accounts_user_username_ci_unique``), so
        "Ana" logs in as "ana" (API and admin alike)."""
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


def visible_patients_q(user: User, *, field: str = "patient") -> Q:
    """The rows a user may read, for a model whose owner is ``field``.

    A patient reads their own rows; a verified doctor reads those of the patients who assigned
    them; anyone else reads nothing. Every app's ``for_user()`` is built on this one rule.
    """
    if user.is_doctor:
        if not user.is_verified_doctor:
            return Q(pk__in=[])
        return Q(**{f"{field}__assigned_doctor": user, f"{field}__role": Role.PATIENT})
    return Q(**{field: user})


class PatientScopedQuerySet(models.QuerySet):
    """For models owned by a patient (``patient`` FK): ``for_user`` applies the one scoping rule."""

    def for_user(self, user: User) -> PatientScopedQuerySet:
        return self.filter(visible_patients_q(user))


class UsernameValidator(ASCIIUsernameValidator):
    """ASCII letters, digits and ``. + - _``: no look-alike Unicode names, the documented pattern
    means the same to every client (JSON Schema's \\w is ASCII), and no "@", so a username never
    is or looks like an email address (login accepts either)."""

    regex = r"^[\w.+-]+\Z"
    message = "Enter a username of ASCII letters, digits and . + - _ only (no @: it is not an email address)."


class User(FastLoadModel, AbstractUser):
    username_validator = UsernameValidator()
    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="Required. 150 characters or fewer. ASCII letters, digits and ./+/-/_ only; "
        "unique whatever the case.",
        validators=[username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[reject_html])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[reject_html])
    email = models.EmailField("email address", blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT, db_index=True)
    phone = models.CharField(max_length=20, blank=True, validators=[validate_phone])
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    assigned_doctor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patients",
        limit_choices_to={"role": Role.DOCTOR},
    )
    is_verified_doctor = models.BooleanField(
        "verified doctor",
        default=False,
        help_text="Set by an admin after checking a doctor's credentials. Only verified doctors "
        "can be assigned and read patient data.",
    )
    email_reminders_enabled = models.BooleanField(default=True)
    # Reminders by Web Push to the user's subscribed browsers (profile ``reminder_channels``).
    push_reminders_enabled = models.BooleanField(default=False)
    email_digest_enabled = models.BooleanField(default=False)
    # The adherence loop (SPEC part two): who hears about missed doses, and what they are told.
    share_medication_names = models.BooleanField(
        default=False, help_text="Missed-dose alerts to caregivers and the doctor name the medication."
    )
    notify_doctor_on_missed = models.BooleanField(
        default=False, help_text="The assigned doctor gets the missed-dose alerts caregivers get."
    )
    remind_again_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(REMIND_AGAIN_MINUTES[0]), MaxValueValidator(REMIND_AGAIN_MINUTES[1])],
        help_text="One follow-up email this many minutes after a reminder that is still unanswered "
        "(10–240); null: off.",
    )

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that email already exists.",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="accounts_user_role_valid"),
            models.CheckConstraint(
                condition=Q(remind_again_minutes__isnull=True)
                | Q(
                    remind_again_minutes__gte=REMIND_AGAIN_MINUTES[0], remind_again_minutes__lte=REMIND_AGAIN_MINUTES[1]
                ),
                name="accounts_user_remind_again_range",
            ),
            models.CheckConstraint(condition=~Q(assigned_doctor=models.F("id")), name="accounts_user_not_own_doctor"),
        ]

    @property
    def reminder_channels(self) -> list[str]:
        """How reminders reach the user: any of "email", "push" (the two booleans above)."""
        return [
            name for name, on in (("email", self.email_reminders_enabled), ("push", self.push_reminders_enabled)) if on
        ]

    @reminder_channels.setter
    def reminder_channels(self, channels: list[str]) -> None:
        self.email_reminders_enabled = "email" in channels
        self.push_reminders_enabled = "push" in channels

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR

    @property
    def reading_doctor(self) -> User | None:
        """The doctor who reads this patient's data (``visible_patients_q`` seen from the patient):
        the assigned doctor while verified and active; None for anyone else."""
        doctor = self.assigned_doctor if self.is_patient else None
        if doctor is None or not (doctor.is_doctor and doctor.is_verified_doctor and doctor.is_active):
            return None
        return doctor

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")

    def local_now(self) -> datetime.datetime:
        return timezone.now().astimezone(self.tzinfo)

    def local_today(self) -> datetime.date:
        return self.local_now().date()

    def local_days(self, days: int, *, end: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
        """The first and last local date of a ``days``-long window ending with ``end`` (default:
        this user's today), both included. The one day-window rule of every per-patient read."""
        end = end or self.local_today()
        return end - datetime.timedelta(days=days - 1), end

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AccessResource(models.TextChoices):
    MEDICATIONS = "medications", "Medications"
    SYMPTOMS = "symptoms", "Symptoms"
    MOODS = "moods", "Moods"
    DASHBOARD = "dashboard", "Dashboard"
    ADHERENCE = "adherence", "Adherence"
    INSIGHTS = "insights", "AI insights"
    REPORT = "report", "Health report"
    OVERVIEW = "overview", "Patient overview"
    EXPORT = "export", "Data export"
    PROFILE = "profile", "Profile (contact details)"


class DataAccessLog(models.Model):
    """A doctor read a patient's data: who, whose, what kind, when. Never the data itself."""

    doctor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="data_reads")
    # Kept as written so the log still names the reader after the account is gone.
    doctor_name = models.CharField(max_length=300)
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_log")
    resource = models.CharField(max_length=32, choices=AccessResource.choices)
    accessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-accessed_at", "-id")
        indexes = [models.Index(fields=["patient", "-accessed_at"], name="accesslog_patient_time_idx")]

    def __str__(self) -> str:
        return f"{self.doctor_name} read {self.resource} of patient {self.patient_id}"


class AccountDeletion(models.Model):
    """An account was deleted: which id, which role, when. Nothing else is kept (no name, email or
    data), so the record itself holds no personal data; admins see it read-only."""

    user_id = models.BigIntegerField(db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-deleted_at", "-id")

    def __str__(self) -> str:
        return f"{self.role} account {self.user_id} deleted {self.deleted_at:%Y-%m-%d}"


class CaregiverStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Caregiver(models.Model):
    """Someone a patient asked to be told about missed doses (a relative, a carer).

    Not a MediTrack account and never linked to one: a caregiver sees nothing through the API and
    gets email only after accepting the emailed invitation, until they unsubscribe.
    """

    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="caregivers")
    email = models.EmailField()
    name = models.CharField(max_length=150, validators=[reject_html])
    status = models.CharField(max_length=16, choices=CaregiverStatus.choices, default=CaregiverStatus.INVITED)
    created_at = models.DateTimeField(auto_now_add=True)
    invitation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                "patient",
                Lower("email"),
                name="caregiver_one_per_patient_email",
                violation_error_message="This address is already one of your caregivers.",
            ),
            models.CheckConstraint(condition=Q(status__in=CaregiverStatus.values), name="caregiver_status_valid"),
        ]
        indexes = [
            models.Index(
                fields=["patient"], name="caregiver_accepted_idx", condition=Q(status=CaregiverStatus.ACCEPTED)
            )
        ]

    def __str__(self) -> str:
        return f"Caregiver {self.pk} of patient {self.patient_id} ({self.status})"
