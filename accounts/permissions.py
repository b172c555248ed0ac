from rest_framework.permissions import SAFE_METHODS, BasePermission

UNVERIFIED_DOCTOR = "Your doctor account is awaiting verification by an administrator."


class IsPatient(BasePermission):
    message = "Only patient accounts can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_patient)


class IsDoctor(BasePermission):
    message = "Only doctor accounts can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_doctor)


class IsVerifiedDoctor(IsDoctor):
    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if not request.user.is_verified_doctor:
            self.message = UNVERIFIED_DOCTOR
            return False
        return True


class PatientWritesDoctorReads(BasePermission):
    """Health data: patients read and write their own; verified doctors only read (writes 403);
    unverified doctors get nothing."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_patient:
            return True
        if user.is_doctor:
            if not user.is_verified_doctor:
                self.message = UNVERIFIED_DOCTOR
                return False
            self.message = "Doctors have read-only access to their patients' records."
            return request.method in SAFE_METHODS
        return False
