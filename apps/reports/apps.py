from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from apps.core.context_processors import NavItem, register_navigation

        from .builders import register_reports

        register_reports()
        register_navigation(NavItem(_("OEE"), "reports:dashboard", "reports.view_oee", 180))
        register_navigation(NavItem(_("Reports"), "reports:run-list", "reports.view_reportrun", 185))
        register_navigation(NavItem(_("Report schedules"), "reports:schedule-list", "reports.view_reportschedule", 186))
