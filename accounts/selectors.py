"""Read use cases for accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import DataAccessLog, User

UNVERIFIED_DOCTOR = "Your doctor account is awaiting verification by an administrator."


def doctor_patients(*, doctor: User) -> QuerySet[User]:
    return User.objects.assigned_to(doctor).order_by("last_name", "first_name", "username")


def verified_doctors() -> QuerySet[User]:
    return User.objects.verified_doctors().order_by("last_name", "first_name", "username")


def username_for_login(identifier: str) -> str:
    """Login accepts a username or the account's email (case-insensitive)."""
    if "@" in identifier and not User.objects.filter(username=identifier).exists():
        match = User.objects.filter(email__iexact=identifier).values_list("username", flat=True).first()
        if match:
            return match
    return identifier


def subject_patient(*, user: User, patient_id: int | None, required_for_doctor: bool = True) -> User | None:
    """Whose data a request reads.

    A patient reads their own (``?patient=`` other than themselves is a 404). A verified doctor
    names an assigned patient with ``?patient=<id>``; an unassigned or unknown id is a 404 so
    nothing leaks; leaving it out is a 400 where one patient is needed (``required_for_doctor``)
    and means "all my patients" (``None``) elsewhere. An unverified doctor reads nothing (403).
    """
    if user.is_doctor:
        if not user.is_verified_doctor:
            raise PermissionDenied(UNVERIFIED_DOCTOR)
        if patient_id is None:
            if required_for_doctor:
                raise ValidationError({"patient": ["Doctors must choose a patient with ?patient=<id>."]})
            return None
        patient = User.objects.assigned_to(user).filter(pk=patient_id).first()
        if patient is None:
            raise NotFound("Patient not found.")
        return patient
    if patient_id is not None and patient_id != user.pk:
        raise NotFound("Patient not found.")
    return user


def patient_access_log(*, patient: User) -> QuerySet[DataAccessLog]:
    return DataAccessLog.objects.filter(patient=patient).order_by("-accessed_at", "-id")
