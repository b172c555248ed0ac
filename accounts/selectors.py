"""Read use cases for accounts."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from accounts.models import Caregiver, CaregiverStatus, DataAccessLog, User


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

# What a user's doctor needs to be named (``display_name``); any other field loads on access.
_DOCTOR_FIELDS = ("id", "username", "first_name", "last_name")


@functools.cache
def _user_with_doctor_query(alias: str) -> tuple[str, list[tuple[list, Any]]]:
    """The SQL and, per user column, Django's converters for it (what the compiler applies)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(User._meta.db_table)
    user_columns = ", ".join(f"u.{quote(field.column)}" for field in User._meta.concrete_fields)
    doctor_columns = ", ".join(f"d.{quote(name)}" for name in _DOCTOR_FIELDS)
    # Only model metadata and quoted names go into the text; the id is a parameter.
    sql = (
        f"SELECT {user_columns}, {doctor_columns} FROM {table} u "  # noqa: S608
        f"LEFT JOIN {table} d ON d.{quote('id')} = u.{quote('assigned_doctor_id')} WHERE u.{quote('id')} = %s"
    )
    converters = []
    for field in User._meta.concrete_fields:
        column = field.get_col(User._meta.db_table)
        converters.append((connection.ops.get_db_converters(column) + column.get_db_converters(connection), column))
    return sql, converters


def user_with_doctor(user_id: int) -> User | None:
    """The user and the names of their doctor, in one query, for authentication (every request).

    What ``User.objects.select_related("assigned_doctor").get(pk=…)`` returns, written as SQL
    once per process: Django compiling that 40-column join cost more than the round trip itself
    (docs/performance.md). The values go through Django's converters for each field and
    ``Model.from_db``, as the ORM's would; the doctor carries its names, its other fields load on
    access.
    """
    alias = User.objects.db
    connection = connections[alias]
    sql, converters = _user_with_doctor_query(alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row[: len(converters)])
    for index, (functions, column) in enumerate(converters):
        for convert in functions:
            values[index] = convert(values[index], column, connection)
    user = User.from_db(alias, None, values)
    doctor_values = row[len(converters) :]
    doctor = None if doctor_values[0] is None else User.from_db(alias, _DOCTOR_FIELDS, doctor_values)
    User._meta.get_field("assigned_doctor").set_cached_value(user, doctor)
    return user
