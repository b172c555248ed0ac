"""Read use cases for accounts."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Subquery

from accounts.models import Caregiver, CaregiverStatus, DataAccessLog, User
from core.prepared import PreparedQuery


def doctor_patients(*, doctor: User) -> QuerySet[User]:
    return User.objects.assigned_to(doctor).order_by("last_name", "first_name", "username")


def verified_doctors() -> QuerySet[User]:
    return User.objects.verified_doctors().order_by("last_name", "first_name", "username")


def username_for_login(identifier: str) -> str:
    """Login accepts a username or the account's email, both case-insensitive.

    A username has no "@" (``UsernameValidator``), so an identifier with one is an email first:
    an account created before that rule, named like someone else's email, never captures that
    person's login (it still logs in by its own email, or by its username when no email matches).
    """
    if "@" in identifier:
        match = User.objects.filter(email__iexact=identifier).values_list("username", flat=True).first()
        if match:
            return match
    return identifier


def patient_access_log(*, patient: User) -> QuerySet[DataAccessLog]:
    return DataAccessLog.objects.filter(patient=patient).order_by("-accessed_at", "-id")


def patient_caregivers(*, patient: User) -> QuerySet[Caregiver]:
    return Caregiver.objects.filter(patient=patient).order_by("created_at", "id")


def caregiver_for_link(caregiver_id: int) -> Caregiver | None:
    """The caregiver an emailed link names (with their patient, for the page), or None."""
    return Caregiver.objects.select_related("patient").filter(pk=caregiver_id).first()


def patient_for_link(patient_id: int) -> User | None:
    """The patient a doctor's missed-dose alert link names, or None."""
    return User.objects.patients().filter(pk=patient_id).first()


def accepted_caregivers(*, patient_ids) -> QuerySet[Caregiver]:
    """Who hears about these patients' missed doses (one query; the sweep's read)."""
    return Caregiver.objects.filter(patient_id__in=patient_ids, status=CaregiverStatus.ACCEPTED).order_by("id")


# --- The authenticated user ------------------------------------------------------------------

_USER_AND_DOCTOR = PreparedQuery(
    lambda user_id: User.objects.filter(
        Q(pk=user_id) | Q(pk=Subquery(User.objects.filter(pk=user_id).values("assigned_doctor_id")))
    ),
    user_id=int,
)


def user_with_doctor(user_id: int) -> User | None:
    """The user and their doctor, in one query, for authentication (every request).

    What ``User.objects.select_related("assigned_doctor").get(pk=…)`` returns, as one prepared
    query (``core.prepared``: Django compiling that join cost more than the round trip itself,
    docs/performance.md) whose rows are the user and, when they have one, their doctor: planning
    it costs PostgreSQL a third less than planning the join.
    """
    rows = _USER_AND_DOCTOR(user_id=user_id)
    user = next((row for row in rows if row.pk == user_id), None)
    if user is None:
        return None
    doctor = next((row for row in rows if row.pk == user.assigned_doctor_id), None)
    User._meta.get_field("assigned_doctor").set_cached_value(user, doctor)
    return user
