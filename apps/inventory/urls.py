from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("materials/", views.MaterialListView.as_view(), name="material-list"),
]
