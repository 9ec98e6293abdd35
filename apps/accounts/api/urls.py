from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import MeView, TokenView, UserViewSet


def register(router: DefaultRouter) -> None:
    router.register("accounts/users", UserViewSet, basename="accounts-user")


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
]
