from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingsConfig(AppConfig):
    name = "apps.routings"
    label = "routings"
    verbose_name = _("Parts, routings and jobs")

    def ready(self) -> None:
        from apps.core.context_processors import NavItem, register_navigation

        register_navigation(
            NavItem(_("Jobs"), "routings:job-list", "routings.view_job", 100),
            NavItem(_("Parts"), "routings:part-list", "routings.view_part", 200),
            NavItem(_("Import / export"), "imports:import", "routings.import_master_data", 800),
        )
