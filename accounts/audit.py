"""Audit trail of doctors' reads, recorded by the views that serve patient data."""

from __future__ import annotations

from typing import Any

from accounts import subject
from accounts.services import doctor_access_record


def _patient_ids(data: Any, field: str = "patient") -> set[int]:
    rows = data.get("results", data) if isinstance(data, dict) else data
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        return set()
    return {row[field] for row in rows if isinstance(row, dict) and isinstance(row.get(field), int)}


class DoctorReadAuditMixin:
    """Records every successful read by a doctor: who, whose, which kind of data, when.

    Set ``audit_resource`` (an ``AccessResource`` value). Whose data: the request's subject patient
    (``accounts.subject``, when ``?patient=`` or the URL names one), else the patient of each
    returned row (its ``audit_row_patient_field``; a doctor's list across all their patients).
    The data itself is never stored.
    """

    audit_resource: str
    audit_row_patient_field = "patient"  # the field of a returned row that names its patient
    audit_action_resources: dict[str, str] = {}  # a different kind of data for some actions

    def audited_patient_ids(self, response) -> set[int]:
        named = getattr(response, "audit_patient_ids", None)  # a view whose rows carry no owner
        if named:
            return set(named)
        patient = subject.resolved(self.request)
        if patient is not None:
            return {patient.pk}
        return _patient_ids(getattr(response, "data", None), self.audit_row_patient_field)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        user = request.user
        reading = request.method in ("GET", "HEAD") and 200 <= response.status_code < 300
        if reading and getattr(user, "is_doctor", False):
            patient_ids = self.audited_patient_ids(response)
            if patient_ids:
                resource = self.audit_action_resources.get(getattr(self, "action", None), self.audit_resource)
                doctor_access_record(doctor=user, patient_ids=patient_ids, resource=resource)
        return response
