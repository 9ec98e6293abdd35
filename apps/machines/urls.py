from django.urls import path

from . import views

app_name = "machines"

urlpatterns = [
    path("work-centers/", views.WorkCenterListView.as_view(), name="workcenter-list"),
    path("work-centers/<int:pk>/", views.WorkCenterDetailView.as_view(), name="workcenter-detail"),
    path("status/", views.PlantStatusView.as_view(), name="plant-status"),
    path("departments/<int:pk>/live/", views.DepartmentDashboardView.as_view(), name="department-live"),
    path("display/<str:token>/", views.DepartmentDisplayView.as_view(), name="department-display"),
    path("work-centers/<int:pk>/live/", views.MachineLiveView.as_view(), name="workcenter-live"),
    path("state-intervals/<int:pk>/reason/", views.AssignDowntimeReasonView.as_view(), name="assign-downtime-reason"),
    path("alarms/<int:pk>/acknowledge/", views.AcknowledgeAlarmView.as_view(), name="acknowledge-alarm"),
]
