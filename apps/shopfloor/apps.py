from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopfloorConfig(AppConfig):
    name = "apps.shopfloor"
    label = "shopfloor"
    verbose_name = _("Shop floor")

    def ready(self) -> None:
        from apps.core.context_processors import NavItem, register_navigation
        from apps.core.notifications import MACHINE_CREW, register_audience

        from .selectors import machine_crew

        register_audience(MACHINE_CREW, machine_crew)
        register_navigation(NavItem(_("Shop floor"), "shopfloor:supervisor", "shopfloor.correct_labor", 160))
        register_navigation(NavItem(_("Operator app"), "shopfloor:app", "shopfloor.execute_operation", 170))
