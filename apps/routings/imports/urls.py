"""Import and export of master data and open jobs (Excel .xlsx and CSV), under /data/."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("import/", views.ImportView.as_view(), name="import"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("template/<slug:kind>/", views.TemplateView.as_view(), name="template"),
]
