"""Thin views: permissions → input → one service/selector → output."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import View
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import subject
from accounts.audit import DoctorReadAuditMixin
from accounts.models import AccessResource
from accounts.permissions import IsPatient, PatientWritesDoctorReads
from accounts.readcache import cached_patient_read
from core.filters import FILTER_BACKENDS
from core.links import SignedLinkView
from core.params import ID_PATH_REGEX, MAX_ID, PatientQuerySerializer, days_serializer, validate_query
from core.ratelimit import enforce_rate_limit
from core.viewsets import FilterListsOnlyMixin
from medications import ics, selectors, services
from medications.filters import MedicationFilter, ReminderFilter
from medications.models import Medication, Reminder, ReminderStatus
from medications.serializers import (
    AdherenceSerializer,
    CalendarFeedIssueSerializer,
    CalendarFeedSerializer,
    DoseLogSerializer,
    MedicationSerializer,
    RefillSerializer,
    ReminderSerializer,
    ScheduledDoseSerializer,
    SnoozeSerializer,
)

PATIENT_PARAM = OpenApiParameter(
    "patient",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    description="Doctors: narrow to one assigned patient (an unassigned id is a 404).",
)
NOT_FOUND = OpenApiResponse(description="Not found (or not yours).")
FORBIDDEN = OpenApiResponse(description="Doctors are read-only; unverified doctors see nothing.")
BAD_REQUEST = OpenApiResponse(description="Validation errors.")


# What Swagger UI's "Try it out" sends by default (validated in core/tests/test_docs.py).
MEDICATION_EXAMPLE = OpenApiExample(
    "Twice a day at custom times",
    value={
        "name": "Metformin",
        "dosage": "500 mg",
        "frequency": "custom",
        "custom_schedule": ["08:00", "20:00"],
        "start_date": "2026-11-01",
        "notes": "With breakfast and dinner.",
    },
    request_only=True,
)
MEDICATION_PATCH_EXAMPLE = OpenApiExample("Pause a medication", value={"is_active": False}, request_only=True)
_SCHEDULE_DOC = (
    "`frequency` once_daily (08:00), twice_daily (08:00, 20:00), three_times_daily (08:00, 14:00, "
    '20:00), as_needed (no reminders) or custom (`custom_schedule`: local "HH:MM" times). Times are '
    "in the patient's time zone."
)


ScheduleQuerySerializer = days_serializer(default=14, maximum=90, name="ScheduleDays")


class AdherenceQuerySerializer(days_serializer(default=30, maximum=365, name="AdherenceDays"), PatientQuerySerializer):
    pass


@extend_schema_view(
    list=extend_schema(
        summary="My medications (doctors: my patients')",
        description="A plain array; `?limit=&offset=` pages it. Filters, search and ordering below.",
        parameters=[PATIENT_PARAM],
    ),
    retrieve=extend_schema(
        summary="One medication",
        description="With its local `reminder_times` and whether it is current today.",
        responses={200: MedicationSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Add a medication",
        description=_SCHEDULE_DOC + " Reminders start with the next due time.",
        examples=[MEDICATION_EXAMPLE],
        responses={201: MedicationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    update=extend_schema(
        summary="Replace a medication",
        description=_SCHEDULE_DOC + " Future reminders follow the new schedule.",
        examples=[MEDICATION_EXAMPLE],
        responses={200: MedicationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change a medication",
        description="Only the fields sent change; future reminders follow the new schedule.",
        examples=[MEDICATION_PATCH_EXAMPLE],
        responses={200: MedicationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Delete a medication",
        description="Its reminders and dose history go with it.",
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
@extend_schema(tags=["medications"])
class MedicationViewSet(
    DoctorReadAuditMixin,
    FilterListsOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MedicationSerializer
    permission_classes = [PatientWritesDoctorReads]
    audit_resource = AccessResource.MEDICATIONS
    audit_action_resources = {"adherence": AccessResource.ADHERENCE}
    lookup_value_regex = ID_PATH_REGEX
    filter_backends = FILTER_BACKENDS
    filterset_class = MedicationFilter
    search_fields = ("name", "dosage")
    ordering_fields = ("start_date", "created_at", "name")
    ordering = selectors.MEDICATION_ORDER

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Medication.objects.none()
        return selectors.medications_visible(user=self.request.user, patient=subject.subject(self.request))

    def get_object(self) -> Medication:
        # A read of one medication of the subject patient (the caller, or a doctor's assigned
        # ?patient=): their row, by one prepared query, instead of building and compiling the
        # scoped queryset on every read (docs/performance.md). Writes, and a doctor naming no
        # patient, take DRF's way through get_queryset.
        patient = subject.subject(self.request) if self.request.method == "GET" else None
        if patient is None:
            return super().get_object()
        medication = selectors.medication_of(patient=patient, medication_id=int(self.kwargs[self.lookup_field]))
        if medication is None:
            raise Http404(f"No {Medication._meta.object_name} matches the given query.")  # DRF's words
        self.check_object_permissions(self.request, medication)
        return medication

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        medication = services.medication_create(patient=request.user, data=serializer.validated_data)
        return Response(self.get_serializer(medication).data, status=status.HTTP_201_CREATED)

    @cached_patient_read
    def list(self, request: Request, *args, **kwargs) -> Response:
        # One patient's plain list (no filter, search, ordering or page asked for: nothing but
        # ?patient=) is their rows in the default order, by one prepared query; anything else
        # goes through the filter backends and pagination.
        patient = subject.subject(request)
        if patient is not None and request.query_params.keys() <= {"patient"}:
            return Response(self.get_serializer(selectors.medications_of(patient=patient), many=True).data)
        return super().list(request, *args, **kwargs)

    @cached_patient_read
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def update(self, request: Request, *args, **kwargs) -> Response:
        medication = self.get_object()
        serializer = self.get_serializer(medication, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        medication = services.medication_update(medication=medication, data=serializer.validated_data)
        return Response(self.get_serializer(medication).data)

    def perform_destroy(self, instance: Medication) -> None:
        services.medication_delete(medication=instance)

    @extend_schema(
        summary="Current medications (active, started, not ended)",
        description="Today in the patient's time zone decides.",
        parameters=[PATIENT_PARAM],
        responses={200: MedicationSerializer(many=True)},
    )
    # No filters, search or ordering here (the order is fixed): none is documented, none applied.
    @action(detail=False, methods=["get"], filterset_class=None, filter_backends=[])
    @cached_patient_read
    def current(self, request: Request) -> Response:
        queryset = selectors.medications_current(user=request.user, patient=subject.subject(self.request))
        return self._list(queryset)

    @extend_schema(
        summary="Upcoming medications (active, starting later)",
        description="Active medications whose start date is after today (patient's time zone).",
        parameters=[PATIENT_PARAM],
        responses={200: MedicationSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filterset_class=None, filter_backends=[])
    @cached_patient_read
    def upcoming(self, request: Request) -> Response:
        queryset = selectors.medications_upcoming(user=request.user, patient=subject.subject(self.request))
        return self._list(queryset)

    def _list(self, queryset) -> Response:
        queryset = queryset.order_by("-created_at", "-id")
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(queryset, many=True).data)

    @extend_schema(
        summary="Adherence over the last N days (doctors: ?patient= is required)",
        description="Taken, missed and skipped doses per medication and in total, with the history.",
        parameters=[AdherenceQuerySerializer],
        responses={200: AdherenceSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    @cached_patient_read
    def adherence(self, request: Request) -> Response:
        query = validate_query(AdherenceQuerySerializer, request)
        patient = subject.require(request)
        summary = selectors.adherence_summary(patient=patient, days=query["days"])
        return Response(summary)  # plain data; AdherenceSerializer documents it (same JSON: tests/test_rows.py)

    @extend_schema(
        summary="Log a dose taken now (or at taken_at): as-needed or unscheduled",
        description="Records a taken dose that no reminder announced; it counts in adherence.",
        examples=[OpenApiExample("Taken now", value={}, request_only=True)],
        request=DoseLogSerializer,
        responses={201: ReminderSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def doses(self, request: Request, pk: str | None = None) -> Response:
        medication = self.get_object()
        serializer = DoseLogSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reminder = services.dose_log(medication=medication, taken_at=serializer.validated_data.get("taken_at"))
        reminder.medication_name = medication.name
        return Response(ReminderSerializer(reminder).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Refill: add to the stock (starts tracking it) and open a new refill cycle",
        description=(
            "Adds `quantity` (> 0, in dose_unit) to `stock_quantity` with one UPDATE (concurrent "
            "answers are never lost). The next time `days_of_supply` falls to "
            '`refill_threshold_days`, one more "refill soon" email goes out.'
        ),
        request=RefillSerializer,
        examples=[OpenApiExample("A new box of 30", value={"quantity": 30}, request_only=True)],
        responses={200: MedicationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def refill(self, request: Request, pk: str | None = None) -> Response:
        medication = self.get_object()
        serializer = RefillSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        medication = services.medication_refill(medication=medication, quantity=serializer.validated_data["quantity"])
        return Response(self.get_serializer(medication).data)

    @extend_schema(
        summary="Coming doses of this medication (its regimen, in the patient's time zone)",
        description="A plain array, in order: the doses of today and the next `days − 1` local days that are "
        "still to come, computed by the code the reminder sweep uses. Doctors: assigned patients (audited).",
        parameters=[ScheduleQuerySerializer],
        responses={200: ScheduledDoseSerializer(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        query = validate_query(ScheduleQuerySerializer, request)
        medication = self.get_object()
        doses = selectors.medication_schedule(
            medication=medication, tz=ZoneInfo(medication.patient_timezone), days=query["days"]
        )
        response = Response(doses)  # plain data; ScheduledDoseSerializer documents it
        response.audit_patient_ids = {medication.patient_id}  # the rows carry no owner
        return response

    @extend_schema(
        methods=["GET"],
        summary="My calendar feed URL (issued on first use)",
        description="Subscribe to `url` in Google, Apple or Outlook calendar. The URL is the credential: "
        "keep it private; POST here to replace it.",
        responses={200: CalendarFeedSerializer, 403: FORBIDDEN},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Issue a new calendar feed URL (the old one stops working at once)",
        description='`show_names: false` makes every event read "Medication dose".',
        request=CalendarFeedIssueSerializer,
        examples=[OpenApiExample("New URL, names hidden", value={"show_names": False}, request_only=True)],
        responses={200: CalendarFeedSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get", "post"],
        filterset_class=None,
        pagination_class=None,
        permission_classes=[IsPatient],
    )
    def calendar(self, request: Request) -> Response:
        if request.method == "POST":
            serializer = CalendarFeedIssueSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            feed = services.calendar_feed_issue(patient=request.user, **serializer.validated_data)
        else:
            feed = services.calendar_feed_get_or_issue(patient=request.user)
        return Response({"url": ics.feed_url(feed.seed), "show_names": feed.show_names})


@extend_schema_view(
    list=extend_schema(
        summary="Dose history (reminders and logged doses)",
        description="Newest first; answer one with `reminders/{id}/taken/` or `…/skipped/`.",
        parameters=[PATIENT_PARAM],
    )
)
@extend_schema(tags=["medications"])
class ReminderViewSet(DoctorReadAuditMixin, FilterListsOnlyMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReminderSerializer
    permission_classes = [PatientWritesDoctorReads]
    audit_resource = AccessResource.MEDICATIONS

    def audited_patient_ids(self, response) -> set[int]:
        ids = super().audited_patient_ids(response)
        if ids or not response.data:
            return ids
        # A doctor's history across all their patients: the rows carry no owner, so ask once.
        return set(self.filter_queryset(self.get_queryset()).values_list("patient_id", flat=True).distinct())

    lookup_value_regex = ID_PATH_REGEX
    filter_backends = FILTER_BACKENDS
    filterset_class = ReminderFilter
    ordering_fields = ("scheduled_for",)
    ordering = ("-scheduled_for", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reminder.objects.none()
        return selectors.reminders_visible(user=self.request.user, patient=subject.subject(self.request))

    def _answer(self, answer: str) -> Response:
        reminder = self.get_object()
        reminder = services.reminder_answer(reminder=reminder, status=answer)
        return Response(self.get_serializer(reminder).data)

    @extend_schema(
        summary="I took this dose (idempotent; corrects a 'skipped')",
        description="A dose that is not due yet is a 400.",
        request=None,
        responses={200: ReminderSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def taken(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(ReminderStatus.TAKEN)

    @extend_schema(
        summary="I skipped this dose (idempotent; corrects a 'taken')",
        description="A skipped dose counts as not taken in adherence.",
        request=None,
        responses={200: ReminderSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def skipped(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(ReminderStatus.SKIPPED)

    @extend_schema(
        summary="Snooze a sent, unanswered reminder: one more email in N minutes (5–240, default 15)",
        description=(
            "Only a `sent` dose; the snooze time must come before the dose counts as missed (4 hours "
            "after its time). Snoozing again moves the time. `snoozed_until` shows it."
        ),
        request=SnoozeSerializer,
        examples=[OpenApiExample("A quarter of an hour", value={"minutes": 15}, request_only=True)],
        responses={200: ReminderSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        reminder = self.get_object()
        serializer = SnoozeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reminder = services.reminder_snooze(reminder=reminder, minutes=serializer.validated_data["minutes"])
        return Response(self.get_serializer(reminder).data)


class ReminderLinkView(SignedLinkView):
    """An emailed link about one dose: the page names the medication and its local time. Every
    outcome is a page (see ``core.links.SignedLinkView``): asked, done or already done (200),
    refused, e.g. not due yet (GET 200 without a button, POST 409), a forged or damaged link
    (400), an expired one (403), a dose that no longer exists (404)."""

    page_title = "MediTrack · your dose"
    invalid_text = "It may have been copied incompletely. You can still record the dose in the MediTrack app."
    expired_text = "Links in reminder emails work for 24 hours. You can still record the dose in the MediTrack app."
    gone_title = "This dose no longer exists"
    gone_text = "The medication or the dose was removed. Nothing was recorded."
    refused_text = "Nothing was recorded. You can answer this dose later, here or in the MediTrack app."

    def get_object(self, object_id: int) -> Reminder | None:
        return selectors.reminder_for_link(object_id)

    def describe(self, reminder: Reminder) -> tuple[str, list[str]]:
        local = reminder.scheduled_for.astimezone(reminder.patient.tzinfo)
        medication = reminder.medication
        return (
            f"{medication.name} – {medication.dosage}",
            [f"Dose scheduled for {local:%H:%M} on {local.date().isoformat()} ({reminder.patient.timezone})."],
        )

    def _local(self, reminder: Reminder, instant) -> str:
        return instant.astimezone(reminder.patient.tzinfo).strftime("%Y-%m-%d %H:%M") if instant else ""


class ReminderConfirmView(ReminderLinkView):
    """The emailed "I took it" link: only the POST marks the dose taken (idempotent; corrects a
    skipped dose)."""

    signer = services.CONFIRM_LINK
    button = "I took this dose"
    done_title = "Recorded as taken. Thank you."

    def is_done(self, reminder: Reminder) -> bool:
        return reminder.status == ReminderStatus.TAKEN

    def already_text(self, reminder: Reminder) -> str:
        when = self._local(reminder, reminder.responded_at)
        return f"This dose was already recorded as taken{f' ({when})' if when else ''}. Nothing changed."

    def refusal(self, reminder: Reminder) -> str | None:
        return services.answer_refusal(reminder=reminder, status=ReminderStatus.TAKEN)

    def ask_lines(self, reminder: Reminder) -> list[str]:
        if reminder.status == ReminderStatus.SKIPPED:
            return ["This dose was recorded as skipped. If you took it after all, correct it here."]
        return []

    def act(self, reminder: Reminder) -> Reminder:
        return services.reminder_answer(reminder=reminder, status=ReminderStatus.TAKEN)


class ReminderSnoozeView(ReminderLinkView):
    """The emailed "Snooze 15 min" link: only the POST snoozes."""

    signer = services.SNOOZE_LINK
    button = f"Snooze {services.SNOOZE_LINK_MINUTES} minutes"
    done_title = "Snoozed. You will get one more email in 15 minutes if the dose is still unanswered."

    def is_done(self, reminder: Reminder) -> bool:
        """A snooze still waiting for its email (a second press would only move it)."""
        until = reminder.snoozed_until
        return (
            until is not None
            and until > timezone.now()
            and (reminder.snooze_sent_at is None or reminder.snooze_sent_at < until)
        )

    def already_text(self, reminder: Reminder) -> str:
        return f"Already snoozed until {self._local(reminder, reminder.snoozed_until)[-5:]}. Nothing changed."

    def refusal(self, reminder: Reminder) -> str | None:
        return services.snooze_refusal(reminder=reminder, minutes=services.SNOOZE_LINK_MINUTES)

    def act(self, reminder: Reminder) -> Reminder:
        return services.reminder_snooze(reminder=reminder, minutes=services.SNOOZE_LINK_MINUTES)


class CalendarFeedView(View):
    """``GET /api/calendar/<token>.ics``: no header (calendar apps cannot send one), the token is
    the credential. A bad or revoked token is a 404. Limited per feed (a calendar app polls a few
    times an hour) and, for tokens that open nothing, per client IP (guessing); a valid feed never
    counts against the IP limit, so many subscribers behind one fetcher (Google) are not
    throttled together."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            feed = selectors.calendar_feed_by_token(token)
            if feed is None:
                enforce_rate_limit(request, group="calendar_miss")
                raise Http404
            enforce_rate_limit(request, group="calendar", value=f"feed:{feed.pk}")
        except Throttled as exc:
            response = JsonResponse({"detail": str(exc.detail)}, status=429)
            response["Retry-After"] = str(max(1, int(exc.wait or 1)))
            return response
        response = HttpResponse(selectors.calendar_feed_document(feed=feed), content_type=ics.CONTENT_TYPE)
        response["Content-Disposition"] = 'inline; filename="meditrack.ics"'
        return response
