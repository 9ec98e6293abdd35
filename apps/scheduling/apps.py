from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "apps.scheduling"
    label = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from apps.core.context_processors import NavItem, register_navigation

        register_navigation(NavItem(_("Schedule"), "scheduling:schedule-list", "scheduling.view_schedule", 150))
