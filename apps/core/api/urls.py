from rest_framework.routers import DefaultRouter

from .views import JobViewSet, OperatorLogRecordViewSet


def register(router: DefaultRouter) -> None:
    router.register("core/background-jobs", JobViewSet, basename="core-job")
    router.register("core/operator-log", OperatorLogRecordViewSet, basename="core-operatorlog")
