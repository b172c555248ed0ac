from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.models import Caregiver, DataAccessLog, Role, User
from accounts.selectors import username_for_login
from core.params import MAX_ID
from core.serializers import LeanReadMixin, StrictJSONTypesMixin

REMINDER_CHANNELS = ("email", "push")


class ProfileSerializer(LeanReadMixin, StrictJSONTypesMixin, serializers.ModelSerializer):
    lean_context_free = True  # its hooks read the user only: GET profile is written by write()

    assigned_doctor_name = serializers.SerializerMethodField()
    reminder_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=REMINDER_CHANNELS),
        max_length=len(REMINDER_CHANNELS),
        required=False,
        help_text='How dose reminders reach you: any of "email", "push" (distinct; [] = none). '
        '"email" is the same switch as email_reminders_enabled; "push" goes to the browsers '
        "subscribed under /api/notifications/push-subscriptions/.",
    )

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "role",
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
            "assigned_doctor",
            "assigned_doctor_name",
            "date_joined",
        )
        read_only_fields = ("id", "role", "assigned_doctor", "assigned_doctor_name", "date_joined")
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assigned_doctor_name(self, user: User) -> str | None:
        doctor = user.assigned_doctor
        return doctor.display_name if doctor else None

    lean_assigned_doctor_name = get_assigned_doctor_name

    def lean_reminder_channels(self, user: User) -> list[str]:
        return user.reminder_channels

    def validate_reminder_channels(self, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise serializers.ValidationError("List each channel once.")
        return [name for name in REMINDER_CHANNELS if name in channels]


class RegisterSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.PATIENT)

    class Meta:
        model = User
        fields = (
            "username",
            "email",
            "password",
            "role",
            "phone",
            "date_of_birth",
            "timezone",
            "first_name",
            "last_name",
        )
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "username", "email", "first_name", "last_name", "phone", "date_of_birth", "timezone")
        read_only_fields = fields


class DoctorSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "username", "first_name", "last_name")
        read_only_fields = fields


class AssignDoctorSerializer(StrictJSONTypesMixin, serializers.Serializer):
    assigned_doctor = serializers.IntegerField(allow_null=True, min_value=1, max_value=MAX_ID)


class AssignDoctorResultSerializer(serializers.Serializer):
    assigned_doctor = serializers.IntegerField(allow_null=True)
    assigned_doctor_name = serializers.CharField(allow_null=True)


class LoginSerializer(TokenObtainPairSerializer):
    """``username`` may also be the account's email."""

    default_error_messages = {"no_active_account": "Invalid username/email or password."}

    def validate(self, attrs):
        attrs[self.username_field] = username_for_login(attrs[self.username_field])
        return super().validate(attrs)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    refresh = serializers.CharField()


class AccountDeleteSerializer(StrictJSONTypesMixin, serializers.Serializer):
    password = serializers.CharField(
        write_only=True, max_length=4096, style={"input_type": "password"}, trim_whitespace=False
    )


class AccessLogSerializer(LeanReadMixin, serializers.ModelSerializer):
    class Meta:
        model = DataAccessLog
        fields = ("doctor_id", "doctor_name", "resource", "accessed_at")
        read_only_fields = fields


class CaregiverSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    class Meta:
        model = Caregiver
        fields = ("id", "email", "name", "status", "created_at", "accepted_at")
        read_only_fields = ("id", "status", "created_at", "accepted_at")
        extra_kwargs = {
            "email": {"help_text": "Where the invitation and, once accepted, the missed-dose alerts go."},
            "name": {"help_text": "How the emails greet them (no HTML)."},
        }
