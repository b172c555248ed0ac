import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_verify_doctor_verifies_and_revokes():
    doctor = DoctorFactory(username="dr-lee", is_verified_doctor=False)
    call_command("verify_doctor", "DR-LEE")
    doctor.refresh_from_db()
    assert doctor.is_verified_doctor is True
    call_command("verify_doctor", "dr-lee", "--revoke")
    doctor.refresh_from_db()
    assert doctor.is_verified_doctor is False


def test_verify_doctor_refuses_a_patient_or_an_unknown_name():
    patient = PatientFactory(username="ana")
    for name in ("ana", "nobody"):
        with pytest.raises(CommandError):
            call_command("verify_doctor", name)
    patient.refresh_from_db()
    assert patient.is_verified_doctor is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("verified", "active", "reads"), [(True, True, True), (False, True, False), (True, False, False)]
)
def test_reading_doctor_is_the_assigned_doctor_only_while_verified_and_active(verified, active, reads):
    from accounts.tests.factories import DoctorFactory, PatientFactory

    doctor = DoctorFactory(is_verified_doctor=verified, is_active=active)
    patient = PatientFactory(assigned_doctor=doctor)
    assert patient.reading_doctor == (doctor if reads else None)
    assert PatientFactory().reading_doctor is None
    assert doctor.reading_doctor is None  # a doctor is nobody's patient
