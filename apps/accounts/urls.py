from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("2fa/enrol/", views.TwoFactorEnrolView.as_view(), name="2fa-enrol"),
    path("2fa/verify/", views.TwoFactorVerifyView.as_view(), name="2fa-verify"),
    path("preferences/theme/", views.ThemeView.as_view(), name="theme"),
    path("preferences/language/", views.LanguageView.as_view(), name="language"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
]
