from django.urls import path

from . import health, notifications_views, views

app_name = "core"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("background-jobs/", views.JobListView.as_view(), name="job-list"),
    path("background-jobs/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("background-jobs/<int:pk>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path("log-panel/", views.OperatorLogView.as_view(), name="operator-log"),
    path("notifications/", notifications_views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", notifications_views.NotificationMarkAllReadView.as_view(), name="notifications-read"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
]
