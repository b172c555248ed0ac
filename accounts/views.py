from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import selectors, services
from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource, Caregiver, CaregiverStatus, DataAccessLog, User
from accounts.permissions import IsPatient, IsVerifiedDoctor
from accounts.serializers import (
    AccessLogSerializer,
    AccountDeleteSerializer,
    AssignDoctorResultSerializer,
    AssignDoctorSerializer,
    CaregiverSerializer,
    DoctorSerializer,
    LoginSerializer,
    PatientSerializer,
    ProfileSerializer,
    RefreshInputSerializer,
    RegisterSerializer,
    TokenPairSerializer,
)
from core.links import SignedLinkView
from core.params import ID_PATH_REGEX
from core.ratelimit import enforce_rate_limit

_RATE_LIMITED = OpenApiResponse(description="Too many requests from this address; see Retry-After.")

# Request examples: what Swagger UI's "Try it out" sends by default, so each must be accepted as it
# is (core/tests/test_docs.py validates every one against its serializer).
EXAMPLE_USER = {"username": "ana", "email": "ana@example.com", "password": "correct-Horse-battery-42"}
REGISTER_EXAMPLE = OpenApiExample(
    "A patient in Lisbon",
    value={**EXAMPLE_USER, "first_name": "Ana", "last_name": "Silva", "timezone": "Europe/Lisbon"},
    request_only=True,
)
LOGIN_EXAMPLE = OpenApiExample(
    "The account registered above",
    value={"username": EXAMPLE_USER["email"], "password": EXAMPLE_USER["password"]},
    request_only=True,
)
PROFILE_EXAMPLE = OpenApiExample(
    "Reminders by email, weekly digest on",
    value={
        "username": EXAMPLE_USER["username"],
        "email": EXAMPLE_USER["email"],
        "first_name": "Ana",
        "last_name": "Silva",
        "timezone": "Europe/Lisbon",
        "email_reminders_enabled": True,
        "email_digest_enabled": True,
    },
    request_only=True,
)
PROFILE_PATCH_EXAMPLE = OpenApiExample(
    "Switch the weekly digest on", value={"email_digest_enabled": True}, request_only=True
)


@extend_schema(tags=["auth"])
class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Create an account",
        description='Patients are the default role. A doctor account (`"role": "doctor"`) starts '
        "unverified and reads nothing until an admin verifies it. Rate-limited per client address.",
        request=RegisterSerializer,
        examples=[REGISTER_EXAMPLE],
        responses={201: ProfileSerializer, 400: OpenApiResponse(description="Validation errors."), 429: _RATE_LIMITED},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, group="register")
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(ProfileSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"])
class LoginView(TokenObtainPairView):
    serializer_class = LoginSerializer

    @extend_schema(
        summary="Log in with username (or email) and password",
        description="Answers an `access` token (send it as `Authorization: Bearer <access>`) and a "
        "`refresh` token for `token/refresh/`. Rate-limited per client address.",
        examples=[LOGIN_EXAMPLE],
        responses={200: TokenPairSerializer, 401: OpenApiResponse(description="Bad credentials."), 429: _RATE_LIMITED},
        auth=[],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        enforce_rate_limit(request, group="login")
        return super().post(request, *args, **kwargs)


@extend_schema(tags=["auth"])
class RefreshView(TokenRefreshView):
    @extend_schema(
        summary="Exchange a refresh token for a new pair (the old refresh token is revoked)",
        description="Refresh tokens rotate: each one is good for one exchange; a reused one is refused.",
        request=RefreshInputSerializer,
        responses={
            200: TokenPairSerializer,
            400: OpenApiResponse(description="No refresh token in the body."),
            401: OpenApiResponse(
                description="Invalid, expired or already used token; the user is gone or inactive, or their password changed."
            ),
        },
        auth=[],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.refresh_token_redeem(refresh=serializer.validated_data["refresh"]))


@extend_schema(tags=["auth"])
class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Log out: revoke a refresh token",
        description="The refresh token stops working at once; the access token expires on its own.",
        request=RefreshInputSerializer,
        responses={205: OpenApiResponse(description="Token revoked."), 400: OpenApiResponse(description="Bad token.")},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_revoke(user=request.user, refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_205_RESET_CONTENT)


_PROFILE_UPDATE_RESPONSES = {
    200: ProfileSerializer,
    400: OpenApiResponse(description="Validation errors (an unusable email gets one neutral message)."),
    429: OpenApiResponse(
        description="Too many email changes for this account (`RATELIMIT_EMAIL_CHANGE`); see Retry-After."
    ),
}


@extend_schema_view(
    get=extend_schema(summary="My profile", description="Account details, reminder settings and my doctor."),
    put=extend_schema(
        summary="Replace my profile",
        description="`timezone` is an IANA name (e.g. `Europe/Lisbon`); reminders fire in it.",
        examples=[PROFILE_EXAMPLE],
        responses=_PROFILE_UPDATE_RESPONSES,
    ),
    patch=extend_schema(
        summary="Change some of my profile",
        description="Only the fields sent change.",
        examples=[PROFILE_PATCH_EXAMPLE],
        responses=_PROFILE_UPDATE_RESPONSES,
    ),
)
@extend_schema(tags=["auth"])
class ProfileView(generics.RetrieveUpdateAPIView):
    serializer_class = ProfileSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self):
        return self.request.user

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        # The serializer's per-process writer (core.serializers.LeanReadMixin.write): the same
        # JSON as ProfileSerializer(user).data, without a serializer built per request.
        return Response(ProfileSerializer.write(request.user))

    def perform_update(self, serializer: ProfileSerializer) -> None:
        email = serializer.validated_data.get("email")
        if email is not None and services.email_change_requested(user=serializer.instance, email=email):
            # Each attempted change counts, accepted or not: probing addresses is slow.
            enforce_rate_limit(self.request, group="email_change", value=f"user:{serializer.instance.pk}")
        services.user_update_profile(user=serializer.instance, data=serializer.validated_data)

    @extend_schema(
        summary="Delete my account and everything in it",
        description=(
            "Needs the account's password. Every row of the account is deleted in one transaction "
            "(medications, reminders and doses, symptoms, moods, the access log about it), cached "
            "reads and insights are dropped, every refresh token is revoked and access tokens are "
            "refused at once. A doctor's patients are unassigned. What remains is an admin-only "
            "record of the deletion: the account id, its role and the time. A wrong password "
            "changes nothing. Each attempt counts against the login rate limit."
        ),
        request=AccountDeleteSerializer,
        examples=[OpenApiExample("My password", value={"password": EXAMPLE_USER["password"]}, request_only=True)],
        responses={
            204: OpenApiResponse(description="The account is deleted."),
            400: OpenApiResponse(description="Missing or wrong password; nothing was deleted."),
            429: _RATE_LIMITED,
        },
    )
    def delete(self, request: Request) -> Response:
        enforce_rate_limit(request, group="login")
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.account_delete(user=request.user, password=serializer.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["auth"],
    summary="The patients who assigned me (doctors)",
    description="Contact details of each patient who chose me; each listed patient's access log records the read.",
)
class PatientListViewSet(DoctorReadAuditMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A doctor's patient list carries contact details: each listed patient's access log says so."""

    serializer_class = PatientSerializer
    permission_classes = [IsVerifiedDoctor]
    audit_resource = AccessResource.PROFILE
    audit_row_patient_field = "id"  # each row is a patient

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return selectors.doctor_patients(doctor=self.request.user)


@extend_schema(
    tags=["auth"],
    summary="Verified doctors a patient can assign",
    description="Ids for `PUT /api/auth/assign-doctor/`.",
)
class DoctorListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DoctorSerializer
    permission_classes = [IsPatient]

    def get_queryset(self):
        return selectors.verified_doctors()


@extend_schema(
    tags=["auth"],
    summary="Who read my data: every doctor read, newest first (patients)",
    description="One entry per read of my data by a doctor: who, which kind of data, when.",
)
class AccessLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AccessLogSerializer
    permission_classes = [IsPatient]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DataAccessLog.objects.none()
        return selectors.patient_access_log(patient=self.request.user)


@extend_schema(tags=["auth"])
class AssignDoctorView(APIView):
    permission_classes = [IsPatient]

    @extend_schema(
        summary="Choose (or clear) my doctor",
        description="An id from `GET /api/auth/doctors/` (verified doctors), or `null` to clear it.",
        request=AssignDoctorSerializer,
        examples=[OpenApiExample("No doctor", value={"assigned_doctor": None}, request_only=True)],
        responses={200: AssignDoctorResultSerializer},
    )
    def put(self, request: Request) -> Response:
        serializer = AssignDoctorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_assign_doctor(
            patient=request.user, doctor_id=serializer.validated_data["assigned_doctor"]
        )
        shown = ProfileSerializer().to_representation(patient)  # the two fields as the profile writes them
        return Response({name: shown[name] for name in AssignDoctorResultSerializer().fields})

    @extend_schema(
        summary="Choose (or clear) my doctor (same as PUT)",
        description="The same as PUT: the one field is `assigned_doctor`.",
        request=AssignDoctorSerializer,
        examples=[OpenApiExample("No doctor", value={"assigned_doctor": None}, request_only=True)],
        responses={200: AssignDoctorResultSerializer},
    )
    def patch(self, request: Request) -> Response:
        return self.put(request)


# --- Caregivers -------------------------------------------------------------------------------

# One message for both limits: a 429 says nothing about who else invited an address.
INVITATIONS_LIMITED = "Too many invitations; try again later."


@extend_schema(tags=["auth"])
class CaregiverViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """People told about my missed doses (patients). A caregiver has no account and sees nothing
    through the API; they get email only after accepting the invitation."""

    serializer_class = CaregiverSerializer
    permission_classes = [IsPatient]
    lookup_value_regex = ID_PATH_REGEX
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Caregiver.objects.none()
        return selectors.patient_caregivers(patient=self.request.user)

    @extend_schema(
        summary="My caregivers (patients)",
        description="People told about my missed doses. A caregiver has no account and sees nothing "
        "through the API; they get email only after accepting the invitation.",
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Invite a caregiver: an email with a link they must accept",
        examples=[
            OpenApiExample("My daughter", value={"email": "rita@example.com", "name": "Rita"}, request_only=True)
        ],
        description=(
            "The answer is the same whether or not the address belongs to a MediTrack user. "
            "Rate-limited per patient (`RATELIMIT_CAREGIVER_INVITE`, default 10/day) and per invited "
            "address (`RATELIMIT_CAREGIVER_INVITE_ADDRESS`, default 3/day, whoever invites)."
        ),
        responses={
            201: CaregiverSerializer,
            400: OpenApiResponse(description="Validation errors (already a caregiver, at most 10)."),
            429: OpenApiResponse(description="Too many invitations; see Retry-After."),
        },
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enforce_rate_limit(
            request, group="caregiver_invite", value=f"user:{request.user.pk}", message=INVITATIONS_LIMITED
        )
        enforce_rate_limit(
            request, group="caregiver_invite_address", value=data["email"].lower(), message=INVITATIONS_LIMITED
        )
        caregiver = services.caregiver_invite(patient=request.user, email=data["email"], name=data["name"])
        return Response(self.get_serializer(caregiver).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a caregiver: they get nothing more",
        description="Their invitation link stops working too.",
        responses={204: None, 404: OpenApiResponse(description="Not found (or not yours).")},
    )
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.caregiver_remove(caregiver=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaregiverLinkView(SignedLinkView):
    page_title = "MediTrack · missed-dose alerts"

    def get_object(self, object_id: int) -> Caregiver | None:
        return selectors.caregiver_for_link(object_id)

    def describe(self, caregiver: Caregiver) -> tuple[str, list[str]]:
        name = caregiver.patient.display_name
        return (
            f"Missed-dose alerts for {name}",
            [f"{name} asked that {caregiver.name} ({caregiver.email}) be told by email when they miss a dose."],
        )


class CaregiverAcceptView(CaregiverLinkView):
    """The invitation's link: only the POST accepts."""

    signer = services.CAREGIVER_ACCEPT_LINK
    button = "Accept"
    done_title = "Accepted. You will get an email when a dose is missed; every email has an unsubscribe link."

    def is_done(self, caregiver: Caregiver) -> bool:
        return caregiver.status == CaregiverStatus.ACCEPTED

    def act(self, caregiver: Caregiver) -> Caregiver:
        return services.caregiver_accept(caregiver=caregiver)


class CaregiverUnsubscribeView(CaregiverLinkView):
    """In every caregiver email and its List-Unsubscribe header (RFC 8058 one-click POST)."""

    signer = services.CAREGIVER_UNSUBSCRIBE_LINK
    button = "Unsubscribe"
    done_title = "Unsubscribed. You will get no more email about this person."

    def is_done(self, caregiver: Caregiver) -> bool:
        return caregiver.status == CaregiverStatus.UNSUBSCRIBED

    def act(self, caregiver: Caregiver) -> Caregiver:
        return services.caregiver_unsubscribe(caregiver=caregiver)


class DoctorAlertsUnsubscribeView(SignedLinkView):
    """In every missed-dose alert to a patient's doctor (``notify_doctor_on_missed``)."""

    signer = services.DOCTOR_ALERTS_UNSUBSCRIBE_LINK
    page_title = "MediTrack · missed-dose alerts"
    button = "Unsubscribe"
    done_title = "Unsubscribed. You will get no more missed-dose alerts about this patient."

    def get_object(self, object_id: int) -> User | None:
        return selectors.patient_for_link(object_id)

    def describe(self, patient: User) -> tuple[str, list[str]]:
        return f"Missed-dose alerts for {patient.display_name}", []

    def is_done(self, patient: User) -> bool:
        return not patient.notify_doctor_on_missed

    def act(self, patient: User) -> User:
        return services.doctor_alerts_unsubscribe(patient=patient)
