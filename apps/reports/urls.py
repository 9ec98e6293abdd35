from django.urls import path

from . import views, views_schedules

app_name = "reports"

urlpatterns = [
    # Report schedules (e-mail delivery)
    path("schedules/", views_schedules.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/new/", views_schedules.ScheduleFormView.as_view(), name="schedule-create"),
    path("schedules/<int:pk>/", views_schedules.ScheduleFormView.as_view(), name="schedule-update"),
    path("schedules/<int:pk>/delete/", views_schedules.ScheduleDeleteView.as_view(), name="schedule-delete"),
    path("schedules/<int:pk>/send/", views_schedules.ScheduleSendNowView.as_view(), name="schedule-send"),
    # The archive of runs
    path("runs/", views_schedules.RunListView.as_view(), name="run-list"),
    path("runs/new/", views_schedules.RunRequestView.as_view(), name="run-create"),
    path("runs/<int:pk>/", views_schedules.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:pk>/retry-delivery/", views_schedules.RunDeliveryRetryView.as_view(), name="run-retry-delivery"),
    path("runs/<int:pk>/pdf", views_schedules.RunDownloadView.as_view(file_format="pdf"), name="run-pdf"),
    path("runs/<int:pk>/xlsx", views_schedules.RunDownloadView.as_view(file_format="xlsx"), name="run-xlsx"),
    # Dashboards: the plant (or a department with ?department=) and one machine with its drill-down.
    path("", views.PlantDashboardView.as_view(), name="dashboard"),
    path("machines/<int:pk>/", views.MachineDashboardView.as_view(), name="machine"),
]
