from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_list import _boolean_icon
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest, HttpResponse

from accounts import services
from accounts.models import AccountDeletion, Caregiver, DataAccessLog, Role, User
from core.ratelimit import rate_limit_wait

admin.site.site_header = "MediTrack administration"
admin.site.site_title = "MediTrack admin"
admin.site.index_title = "Patients, doctors, medications and reminders"


@cache
def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name the API accepts (``core.validators.validate_timezone``), sorted."""
    return [(name, name) for name in sorted(available_timezones())]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "account", "doctor_verified", "assigned_doctor", "is_active", "date_joined")
    list_filter = ("role", "is_verified_doctor", "is_active", "is_staff", "email_reminders_enabled")
    search_fields = ("username", "email", "first_name", "last_name")
    list_select_related = ("assigned_doctor",)
    raw_id_fields = ("assigned_doctor",)
    actions = ("verify_doctors", "unverify_doctors")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "MediTrack",
            {
                "fields": (
                    "role",
                    "is_verified_doctor",
                    "assigned_doctor",
                    "phone",
                    "date_of_birth",
                    "timezone",
                    "email_reminders_enabled",
                    "email_digest_enabled",
                    "share_medication_names",
                    "notify_doctor_on_missed",
                )
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "timezone":  # a choice, not free text the API would refuse later
            return forms.ChoiceField(
                choices=timezone_choices(), initial=db_field.default, help_text="The zone reminders fire in."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="account", ordering="role")
    def account(self, user: User) -> str:
        """An admin made with ``make superuser`` is an administrator, not a patient."""
        return "Administrator" if user.is_superuser else user.get_role_display()

    @admin.display(description="verified doctor", ordering="is_verified_doctor")
    def doctor_verified(self, user: User) -> str:
        """Yes or no for doctors only; for anyone else the question does not arise."""
        return _boolean_icon(user.is_verified_doctor) if user.role == Role.DOCTOR else "–"

    @admin.action(description="Verify selected doctor accounts")
    def verify_doctors(self, request, queryset):
        changed = services.doctors_set_verified(
            doctor_ids=list(queryset.filter(role=Role.DOCTOR).values_list("pk", flat=True)), verified=True
        )
        self.message_user(request, f"{changed} doctor account(s) verified.", messages.SUCCESS)

    @admin.action(description="Revoke verification of selected doctor accounts")
    def unverify_doctors(self, request, queryset):
        changed = services.doctors_set_verified(
            doctor_ids=list(queryset.filter(role=Role.DOCTOR).values_list("pk", flat=True)), verified=False
        )
        self.message_user(request, f"{changed} doctor account(s) no longer verified.", messages.WARNING)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record the app writes and nobody edits: admins list and view it, never add, change or
    delete it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataAccessLog)
class DataAccessLogAdmin(ReadOnlyAdmin):
    """Read-only: an audit trail is never edited."""

    list_display = ("accessed_at", "doctor_name", "patient", "resource")
    list_filter = ("resource", "accessed_at")
    search_fields = ("doctor_name", "doctor__username", "patient__username", "patient__email")
    list_select_related = ("patient",)
    date_hierarchy = "accessed_at"


@admin.register(AccountDeletion)
class AccountDeletionAdmin(ReadOnlyAdmin):
    """Read-only: which account was deleted and when; no personal data is kept."""

    list_display = ("deleted_at", "user_id", "role")
    list_filter = ("role", "deleted_at")
    search_fields = ("user_id",)
    date_hierarchy = "deleted_at"


@admin.register(Caregiver)
class CaregiverAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "patient", "status", "created_at", "invitation_sent_at", "accepted_at")
    list_filter = ("status", "created_at")
    search_fields = ("email", "name", "patient__username", "patient__email")
    list_select_related = ("patient",)
    raw_id_fields = ("patient",)
    readonly_fields = ("created_at", "invitation_sent_at", "accepted_at", "unsubscribed_at")


ADMIN_LOGIN_LIMITED = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Too many login attempts</title>"
    "<h1>Too many login attempts</h1><p>Too many login attempts from this address. "
    "Try again in {minutes} minute(s).</p></html>"
)


def rate_limited_admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's login form under the API login's policy: each POST counts against the same
    per-IP counter (``RATE_LIMITS["login"]``), so the admin is no way around the API's limit."""
    if request.method == "POST":
        wait = rate_limit_wait(request, group="login")
        if wait is not None:
            response = HttpResponse(ADMIN_LOGIN_LIMITED.format(minutes=-(-wait // 60)), status=429)
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, extra_context)
