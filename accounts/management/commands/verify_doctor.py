"""``manage.py verify_doctor <username>``: what the admin's "Verify selected doctor accounts"
action does, from the command line (the README tour uses it)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Role, User


class Command(BaseCommand):
    help = "Verify a doctor account, so it can read the data of the patients who assign it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Withdraw the verification instead.")

    def handle(self, *args, username: str, revoke: bool, **options) -> None:
        doctor = User.objects.filter(username__iexact=username).first()
        if doctor is None or doctor.role != Role.DOCTOR:
            raise CommandError(f"No doctor account named {username!r}.")
        services.doctors_set_verified(doctor_ids=[doctor.pk], verified=not revoke)
        self.stdout.write(f"Doctor {doctor.username} (id {doctor.pk}) is {'no longer ' if revoke else ''}verified.")
