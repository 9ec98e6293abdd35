from django.urls import URLPattern, path
from rest_framework.routers import DefaultRouter

from .oee import MachineOeeView, PlantOeeView
from .runs import ReportRunViewSet


def register(router: DefaultRouter) -> None:
    """Register this app's resources on the project's REST router."""
    router.register("reports/runs", ReportRunViewSet, basename="reports-reportrun")


urlpatterns: list[URLPattern] = [
    path("reports/oee/", PlantOeeView.as_view(), name="reports-oee"),
    path("reports/oee/machines/<int:pk>/", MachineOeeView.as_view(), name="reports-oee-machine"),
]
