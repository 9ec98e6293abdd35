from django.urls import path

from . import views

app_name = "routings"

urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="job-list"),
    path("jobs/release-selected/", views.JobReleaseSelectedView.as_view(), name="job-release-selected"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:pk>/release/", views.JobReleaseView.as_view(), name="job-release"),
    path("jobs/<int:pk>/hold/", views.JobHoldView.as_view(), name="job-hold"),
    path("jobs/<int:pk>/resume/", views.JobResumeView.as_view(), name="job-resume"),
    path("jobs/<int:pk>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path("jobs/<int:pk>/split/", views.JobSplitView.as_view(), name="job-split"),
    path("parts/", views.PartListView.as_view(), name="part-list"),
    path("parts/<int:pk>/", views.PartDetailView.as_view(), name="part-detail"),
    path("parts/<int:pk>/files/", views.PartFileUploadView.as_view(), name="part-file-upload"),
    path("part-files/<int:pk>/download/", views.PartFileDownloadView.as_view(), name="part-file-download"),
]
