from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MachinesConfig(AppConfig):
    name = "apps.machines"
    label = "machines"
    verbose_name = _("Machines and calendars")

    def ready(self) -> None:
        from apps.core.context_processors import NavItem, register_navigation

        register_navigation(
            NavItem(_("Plant status"), "machines:plant-status", "machines.view_workcenter", 250),
            NavItem(_("Work centers"), "machines:workcenter-list", "machines.view_workcenter", 300),
        )
