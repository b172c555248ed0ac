"""Write use cases for accounts. Views call these; each owns its transaction."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from accounts import readcache
from accounts.events import account_deleted
from accounts.models import AccountDeletion, Caregiver, CaregiverStatus, DataAccessLog, Role, User
from core.links import LinkSigner
from core.mail import send_claimed_email, unsubscribe_headers

logger = logging.getLogger(__name__)

EMAIL_TAKEN = "A user with that email already exists."
# A profile's email change is answered without saying whether another account has the address
# (and is rate-limited: RATE_LIMITS["email_change"]), so the profile is no account-existence oracle.
EMAIL_UNAVAILABLE = "This email address cannot be used for this account."
PROFILE_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "phone",
    "date_of_birth",
    "timezone",
    "email_reminders_enabled",
    "reminder_channels",
    "email_digest_enabled",
    "share_medication_names",
    "notify_doctor_on_missed",
    "remind_again_minutes",
)


def _ensure_email_free(email: str, *, exclude_pk: int | None = None, message: str = EMAIL_TAKEN) -> None:
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if email and taken.exists():
        raise ValidationError({"email": [message]})


def email_change_requested(*, user: User, email: str) -> bool:
    """Whether a profile update's ``email`` is a change (not the current address in any case)."""
    return User.objects.normalize_email(email).lower() != user.email.lower()


USERNAME_TAKEN = "A user with that username already exists."


def _ensure_username_free(username: str, *, exclude_pk: int | None = None) -> None:
    taken = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"username": [USERNAME_TAKEN]})


def _save_or_conflict(user: User, *, email_taken: str = EMAIL_TAKEN) -> None:
    """Save; the database's case-insensitive unique index is the final word on emails."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        if "email" in str(exc).lower():
            raise ValidationError({"email": [email_taken]}) from None
        if "username" in str(exc).lower():
            raise ValidationError({"username": [USERNAME_TAKEN]}) from None
        raise


def _validate_birth_date(date_of_birth: datetime.date | None, *, user: User) -> None:
    if date_of_birth and date_of_birth > user.local_today():
        raise ValidationError({"date_of_birth": ["Date of birth cannot be in the future."]})


def user_register(*, username: str, email: str, password: str, role: str = Role.PATIENT, **profile: Any) -> User:
    """Create an account. Doctors start unverified until an admin verifies them."""
    user = User(username=username, email=User.objects.normalize_email(email), role=role, **profile)
    _validate_birth_date(user.date_of_birth, user=user)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    _ensure_username_free(user.username)
    _ensure_email_free(user.email)
    user.set_password(password)
    _save_or_conflict(user)
    return user


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change the editable profile fields; role, assignment and dates never change here."""
    channels = data.get("reminder_channels")
    if channels is not None and data.get("email_reminders_enabled", "email" in channels) != ("email" in channels):
        raise ValidationError(
            {"reminder_channels": ['Contradicts email_reminders_enabled: "email" is the same switch.']}
        )
    for field, value in data.items():
        if field not in PROFILE_FIELDS:
            raise ValueError(f"{field} is not an editable profile field")
        setattr(user, field, value)
    if "username" in data:
        _ensure_username_free(user.username, exclude_pk=user.pk)
    if "email" in data:
        user.email = User.objects.normalize_email(user.email)
        _ensure_email_free(user.email, exclude_pk=user.pk, message=EMAIL_UNAVAILABLE)
    _validate_birth_date(user.date_of_birth, user=user)
    _save_or_conflict(user, email_taken=EMAIL_UNAVAILABLE)
    return user


def patient_assign_doctor(*, patient: User, doctor_id: int | None) -> User:
    """Set (or clear, with ``None``) a patient's doctor. Only a verified doctor is accepted."""
    doctor = None
    if doctor_id is not None:
        doctor = User.objects.verified_doctors().filter(pk=doctor_id).first()
        if doctor is None:
            raise ValidationError({"assigned_doctor": ["Choose a verified doctor account."]})
    patient.assigned_doctor = doctor
    patient.save(update_fields=["assigned_doctor"])
    return patient


def doctors_set_verified(*, doctor_ids: list[int], verified: bool) -> int:
    """Admin action: (un)verify doctor accounts. Returns how many changed."""
    return User.objects.filter(pk__in=doctor_ids, role=Role.DOCTOR).update(is_verified_doctor=verified)


def _refresh_token_spend(token: RefreshToken, user: User) -> None:
    """Blacklist ``token`` with an INSERT that only one request can make.

    simplejwt's rotation checks the blacklist, then writes with ``get_or_create``: two concurrent
    redemptions both pass the check and both "succeed". Here the blacklist row is created, not
    fetched: its one-to-one key on the outstanding token makes the database refuse the second
    one, and that request is a 401 (PostgreSQL makes it wait for the first to commit)."""
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[jwt_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise InvalidToken("Token is blacklisted") from None


def refresh_token_redeem(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair; the old one is spent exactly once.

    Refused (401): a bad, expired or already spent token; a user who is gone or inactive; a
    token issued before the user's password last changed (``CHECK_REVOKE_TOKEN``: tokens carry a
    hash of the password they were issued under, so a change in the admin, the API or the shell
    ends every session, refresh and access tokens alike)."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from None
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        raise AuthenticationFailed("No active account found for the given token.", code="no_active_account")
    if jwt_settings.CHECK_REVOKE_TOKEN and token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(
        user.password
    ):
        raise AuthenticationFailed("The user's password has been changed.", code="password_changed")
    _refresh_token_spend(token, user)
    access = str(token.access_token)
    token.set_jti()
    token.set_exp()
    token.set_iat()
    token.outstand()
    return {"access": access, "refresh": str(token)}


def refresh_token_revoke(*, user: User, refresh: str) -> None:
    """Log out: blacklist one of this user's refresh tokens."""
    try:
        token = RefreshToken(refresh)
    except TokenError:
        raise ValidationError({"refresh": ["Token is invalid or expired."]}) from None
    if str(token.get("user_id")) != str(user.pk):
        raise ValidationError({"refresh": ["Token is invalid or expired."]})
    token.blacklist()


def doctor_access_record(*, doctor: User, patient_ids: Iterable[int], resource: str) -> None:
    """Audit trail: note that ``doctor`` read ``resource`` of these patients (one row each)."""
    if not doctor.is_doctor:
        return
    now = timezone.now()
    DataAccessLog.objects.bulk_create(
        DataAccessLog(
            doctor=doctor, doctor_name=doctor.display_name, patient_id=pid, resource=resource, accessed_at=now
        )
        for pid in sorted(set(patient_ids))
    )


WRONG_PASSWORD = "The password is not correct."  # noqa: S105 (a message, not a password)


def _owned_models() -> list[type]:
    """Every model with a ``patient`` foreign key to the user: the rows an account owns."""
    return [
        model
        for model in apps.get_models()
        if any(
            field.name == "patient" and field.is_relation and field.related_model is User
            for field in model._meta.get_fields()
        )
    ]


def _forget_admin_history(user: User) -> None:
    """Admin change messages name the object they changed (a username, a medication name): drop
    those about this user and about the rows they own, before the rows go."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).delete()
    for model in _owned_models():
        owned = model._default_manager.filter(patient=user).annotate(key=Cast("pk", TextField())).values("key")
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=owned).delete()


def _revoke_refresh_tokens(user: User) -> None:
    """Blacklist every refresh token ever issued to the user. The blacklist rows stay (without the
    user: the foreign key is set to null) until ``flushexpiredtokens`` removes expired ones."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in outstanding.values_list("pk", flat=True)], ignore_conflicts=True
    )


def account_delete(*, user: User, password: str) -> None:
    """Delete the account and every row that belongs to it, in one transaction.

    A doctor's patients are unassigned (the foreign key is set to null). Access tokens are refused
    at once (the user is read on every request); after the commit cached reads and insights are
    dropped, and ``account_deleted`` tells higher apps to drop what they keep.
    What remains is an ``AccountDeletion`` row: the id, the role and the time.
    """
    if not password or not user.check_password(password):
        raise ValidationError({"password": [WRONG_PASSWORD]})
    user_id, role = user.pk, user.role
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user_id).first()  # one deletion at a time
        _revoke_refresh_tokens(user)
        _forget_admin_history(user)
        with readcache.unversioned_writes(user_id):  # no cache write per row: dropped once below
            user.delete()
        AccountDeletion.objects.create(user_id=user_id, role=role)

        def after_commit() -> None:
            readcache.forget_patient(user_id)
            account_deleted.send(sender=User, user_id=user_id, role=role)

        transaction.on_commit(after_commit)


# --- Caregivers -------------------------------------------------------------------------------
# Signed links (core.links): accept an invitation, stop every alert about one patient. An
# unsubscribe link never expires (RFC 8058: it must keep working); an invitation is good a week.
CAREGIVER_ACCEPT_LINK = LinkSigner(salt="accounts.caregiver-accept", max_age=datetime.timedelta(days=7), key="c")
CAREGIVER_UNSUBSCRIBE_LINK = LinkSigner(salt="accounts.caregiver-unsubscribe", max_age=None, key="c")
# The assigned doctor's missed-dose alerts (``notify_doctor_on_missed``): the link names the patient.
DOCTOR_ALERTS_UNSUBSCRIBE_LINK = LinkSigner(salt="accounts.doctor-alerts-unsubscribe", max_age=None, key="p")
MAX_CAREGIVERS = 10
ALREADY_A_CAREGIVER = "This address is already one of your caregivers."
INVITATION_TEMPLATE = "accounts/email/caregiver_invitation"


def caregiver_accept_url(caregiver_id: int) -> str:
    return f"{settings.PUBLIC_URL}/api/auth/caregivers/accept/{CAREGIVER_ACCEPT_LINK.token(caregiver_id)}/"


def caregiver_unsubscribe_url(caregiver_id: int) -> str:
    return f"{settings.PUBLIC_URL}/api/auth/caregivers/unsubscribe/{CAREGIVER_UNSUBSCRIBE_LINK.token(caregiver_id)}/"


def doctor_alerts_unsubscribe_url(patient_id: int) -> str:
    token = DOCTOR_ALERTS_UNSUBSCRIBE_LINK.token(patient_id)
    return f"{settings.PUBLIC_URL}/api/auth/missed-dose-alerts/unsubscribe/{token}/"


def _enqueue_invitation(caregiver_id: int) -> None:
    from accounts.tasks import send_caregiver_invitation  # tasks call services, not the reverse, at import

    try:
        send_caregiver_invitation.apply_async(args=(caregiver_id,))
    except Exception:  # broker down: the row stays unsent; the admin can see it (invitation_sent_at)
        logger.warning("could not enqueue the invitation of caregiver %s", caregiver_id, exc_info=True)


def caregiver_invite(*, patient: User, email: str, name: str) -> Caregiver:
    """Add a caregiver and email them an invitation (after the commit, through the worker).

    Nothing here looks at user accounts: the answer is the same whether or not the address
    belongs to a MediTrack user. Rate limits are the view's (they need the request).
    """
    if not patient.is_patient:
        raise ValueError("only patients have caregivers")
    email = User.objects.normalize_email(email).strip()
    if Caregiver.objects.filter(patient=patient, email__iexact=email).exists():
        raise ValidationError({"email": [ALREADY_A_CAREGIVER]})
    if Caregiver.objects.filter(patient=patient).count() >= MAX_CAREGIVERS:
        raise ValidationError({"email": [f"At most {MAX_CAREGIVERS} caregivers; remove one first."]})
    caregiver = Caregiver(patient=patient, email=email, name=name)
    caregiver.full_clean(exclude=["patient"], validate_constraints=False)
    try:
        with transaction.atomic():
            caregiver.save()
            transaction.on_commit(lambda: _enqueue_invitation(caregiver.pk))
    except IntegrityError:  # the same address added twice at once
        raise ValidationError({"email": [ALREADY_A_CAREGIVER]}) from None
    return caregiver


def caregiver_remove(*, caregiver: Caregiver) -> None:
    caregiver.delete()


def caregiver_send_invitation(*, caregiver_id: int, now: datetime.datetime | None = None) -> str:
    """Email one invitation, once: a conditional claim on ``invitation_sent_at``. A transient SMTP
    failure gives the claim back and raises ``EmailDeliveryError`` (the task retries)."""
    now = now or timezone.now()
    claimed = Caregiver.objects.filter(
        pk=caregiver_id, status=CaregiverStatus.INVITED, invitation_sent_at__isnull=True
    ).update(invitation_sent_at=now)
    if claimed != 1:
        return "noop"
    caregiver = Caregiver.objects.select_related("patient").get(pk=caregiver_id)
    patient_name = caregiver.patient.display_name
    context = {
        "caregiver_name": caregiver.name,
        "patient_name": patient_name,
        "accept_url": caregiver_accept_url(caregiver.pk),
        "unsubscribe_url": caregiver_unsubscribe_url(caregiver.pk),
        "valid_days": CAREGIVER_ACCEPT_LINK.max_age.days,
    }
    return send_claimed_email(
        to=caregiver.email,
        subject=f"{patient_name} asks you to hear about missed medication doses",
        template=INVITATION_TEMPLATE,
        context=context,
        headers=unsubscribe_headers(context["unsubscribe_url"]),
        label=f"invitation of caregiver {caregiver_id}",
        give_back=lambda: Caregiver.objects.filter(pk=caregiver_id, invitation_sent_at=now).update(
            invitation_sent_at=None
        ),
    )


def caregiver_accept(*, caregiver: Caregiver, now: datetime.datetime | None = None) -> Caregiver:
    """The invited person agreed (the POST of the emailed page). Idempotent."""
    now = now or timezone.now()
    Caregiver.objects.filter(pk=caregiver.pk).exclude(status=CaregiverStatus.ACCEPTED).update(
        status=CaregiverStatus.ACCEPTED, accepted_at=now, unsubscribed_at=None
    )
    caregiver.refresh_from_db(fields=["status", "accepted_at", "unsubscribed_at"])
    return caregiver


def caregiver_unsubscribe(*, caregiver: Caregiver, now: datetime.datetime | None = None) -> Caregiver:
    """No more email about this patient, whatever the state (also RFC 8058 one-click). Idempotent."""
    now = now or timezone.now()
    Caregiver.objects.filter(pk=caregiver.pk).exclude(status=CaregiverStatus.UNSUBSCRIBED).update(
        status=CaregiverStatus.UNSUBSCRIBED, unsubscribed_at=now
    )
    caregiver.refresh_from_db(fields=["status", "accepted_at", "unsubscribed_at"])
    return caregiver


def doctor_alerts_unsubscribe(*, patient: User) -> User:
    """The assigned doctor stops the missed-dose alerts of this patient (the patient may turn them
    on again in their profile)."""
    User.objects.filter(pk=patient.pk).update(notify_doctor_on_missed=False)
    patient.notify_doctor_on_missed = False
    return patient
