from typing import Any

from django.core.management.base import BaseCommand

from apps.accounts.services import create_role_groups


class Command(BaseCommand):
    help = "Create or update one group per role with exactly the permissions of the role matrix."

    def handle(self, *args: Any, **options: Any) -> None:
        for role, count in create_role_groups().items():
            self.stdout.write(f"{role}: {count} permissions")
