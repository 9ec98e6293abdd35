from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from simple_history.models import HistoricalRecords

from .choices import Theme
from .roles import ROLE_LABELS, ROLES, TWO_FACTOR_ROLES


class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A person who uses CNC Copilot: an operator, a supervisor, a planner, a manager.

    What they may do comes from their roles (groups of permissions, see roles.py). Accounts are
    made by an admin or on first sign-in through the company's identity provider (SSO).
    """

    theme = models.CharField(_("theme"), max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    history = HistoricalRecords(m2m_fields=["groups"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    @cached_property
    def role_names(self) -> list[str]:
        names = {group.name for group in self.groups.all()}
        return [role for role in ROLES if role in names]

    @property
    def display_name(self) -> str:
        """How people see each other in the app: the full name, else the username."""
        return self.get_full_name() or self.get_username()

    @property
    def role_labels(self) -> list[str]:
        return [str(ROLE_LABELS[role]) for role in self.role_names]

    @property
    def requires_two_factor(self) -> bool:
        """Supervisors and every role above them, and anyone who can open the admin site."""
        return self.is_staff or self.is_superuser or any(r in TWO_FACTOR_ROLES for r in self.role_names)


class ApiToken(AbstractAuthToken):
    """A token a machine or an integration uses to call the API (`Authorization: Token ...`).

    Only a hash is stored; the token itself is shown once, when an admin issues it.
    """

    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. 'edge gateway laser bay'."))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"
