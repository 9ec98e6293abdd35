from django.apps import AppConfig


class RoutingsConfig(AppConfig):
    name = "apps.routings"
    label = "routings"
    verbose_name = "Parts, routings and jobs"
