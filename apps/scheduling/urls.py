from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("schedules/", views.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/plan/", views.PlanningRunStartView.as_view(), name="schedule-plan"),
    path("schedules/<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule-detail"),
    path("schedules/<int:pk>/publish/", views.SchedulePublishView.as_view(), name="schedule-publish"),
    path("schedules/<int:pk>/gantt/", views.GanttPageView.as_view(), name="gantt-of"),
    path("schedules/<int:pk>/load/", views.LoadPageView.as_view(), name="load-of"),
    path("schedules/<int:pk>/late-jobs/", views.LateJobsPageView.as_view(), name="late-jobs-of"),
    path("gantt/", views.GanttPageView.as_view(), name="gantt"),
    path("gantt/move/", views.SlotMoveView.as_view(), name="slot-move"),
    path("load/", views.LoadPageView.as_view(), name="load"),
    path("late-jobs/", views.LateJobsPageView.as_view(), name="late-jobs"),
]
