"""Whose data a request reads: the subject patient, decided once per request.

A patient reads their own data (``?patient=`` naming anyone else is a 404). A verified doctor
names an assigned patient with ``?patient=<id>`` (or the URL names one: the patient overview);
an unassigned or unknown id is a 404, so nothing leaks. A doctor who names nobody reads "all my
patients" (``None``) where a view allows it, and gets a 400 where one patient is needed
(:func:`require`). An unverified doctor reads nothing (403).

The value is resolved on first use and kept on the request under one private name; every reader
(querysets, filters, the audit log, the read cache key) asks this module for it, nobody keeps a
copy of their own.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request

from accounts.models import User
from accounts.permissions import UNVERIFIED_DOCTOR
from core.params import PatientQuerySerializer, validate_query

PATIENT_REQUIRED = "Doctors must choose a patient with ?patient=<id>."

_ATTRIBUTE = "_meditrack_subject_patient"
_UNSET = object()


def _resolve(user: User, patient_id: int | None) -> User | None:
    if user.is_doctor:
        if not user.is_verified_doctor:
            raise PermissionDenied(UNVERIFIED_DOCTOR)
        if patient_id is None:
            return None
        patient = User.objects.assigned_to(user).filter(pk=patient_id).first()
        if patient is None:
            raise NotFound("Patient not found.")
        return patient
    if patient_id is not None and patient_id != user.pk:
        raise NotFound("Patient not found.")
    return user


def subject(request: Request, *, patient_id: int | object | None = _UNSET) -> User | None:
    """The subject patient of ``request``: the caller (a patient), the named assigned patient (a
    doctor), or None (a doctor who named nobody). ``patient_id``: a patient named by the URL
    instead of ``?patient=``. Resolved once; later calls return the same value."""
    resolved = getattr(request, _ATTRIBUTE, _UNSET)
    if resolved is _UNSET:
        if patient_id is _UNSET:
            patient_id = (
                validate_query(PatientQuerySerializer, request).get("patient")
                if "patient" in request.query_params
                else None
            )
        resolved = _resolve(request.user, patient_id)
        setattr(request, _ATTRIBUTE, resolved)
    return resolved


def require(request: Request, *, patient_id: int | object | None = _UNSET) -> User:
    """The subject patient where the view needs exactly one (a doctor without ``?patient=``: 400)."""
    patient = subject(request, patient_id=patient_id)
    if patient is None:
        raise ValidationError({"patient": [PATIENT_REQUIRED]})
    return patient


def resolved(request: Request) -> User | None:
    """The subject if this request has resolved one already, else None (never raises)."""
    return getattr(request, _ATTRIBUTE, None)
