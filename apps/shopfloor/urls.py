from django.urls import path

from . import issue_views, views

app_name = "shopfloor"

urlpatterns = [
    path("", views.OperatorAppView.as_view(), name="app"),
    path("o/<int:operation>/", views.OperatorAppView.as_view(), name="app-operation"),
    path("j/<int:job>/", views.OperatorAppView.as_view(), name="app-job"),
    path("manifest.webmanifest", views.ManifestView.as_view(), name="manifest"),
    path("sw.js", views.ServiceWorkerView.as_view(), name="service-worker"),
    path("jobs/<int:pk>/traveler.pdf", views.TravelerView.as_view(), name="traveler"),
    path("supervisor/", views.SupervisorView.as_view(), name="supervisor"),
    path("labor/", views.LaborView.as_view(), name="labor"),
    path("issues/", issue_views.IssueListView.as_view(), name="issue-list"),
    path("issues/<int:pk>/", issue_views.IssueDetailView.as_view(), name="issue-detail"),
]
