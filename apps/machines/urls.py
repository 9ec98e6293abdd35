from django.urls import path

from . import views

app_name = "machines"

urlpatterns = [
    path("work-centers/", views.WorkCenterListView.as_view(), name="workcenter-list"),
    path("work-centers/<int:pk>/", views.WorkCenterDetailView.as_view(), name="workcenter-detail"),
]
