from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import ADMIN, ROLES
from apps.accounts.services import assign_roles, create_role_groups


def demo_password(role: str) -> str:
    return f"{role.replace('_', '-')}-demo"


class Command(BaseCommand):
    help = "Create one demo user per role (username = role) and print their passwords once."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        create_role_groups()
        created = []
        for role in ROLES:
            user, is_new = User.objects.get_or_create(
                username=role,
                defaults={
                    "first_name": role.replace("_", " ").title(),
                    "last_name": "Demo",
                    "email": f"{role}@demo.cnc-copilot.local",
                },
            )
            if is_new:
                user.set_password(demo_password(role))
                user.is_superuser = role == ADMIN
                user.save()
                created.append(role)
            assign_roles(actor=None, user=user, roles=[role])
        if not created:
            self.stdout.write("Demo users already exist; passwords were printed when they were created.")
            return
        self.stdout.write("Demo users (username / password) — shown once:")
        for role in created:
            note = "" if role == "operator" else "  (enrols an authenticator app at first sign-in)"
            self.stdout.write(f"  {role:<20} {demo_password(role)}{note}")
