"""WebSocket routes of machines, added to core's in cnc_copilot/asgi.py."""

from django.urls import path

from .consumers import DepartmentLiveConsumer, DisplayLiveConsumer, MachineLiveConsumer, PlantLiveConsumer

websocket_urlpatterns = [
    path("ws/machines/plant/", PlantLiveConsumer.as_asgi()),
    path("ws/machines/departments/<int:department_id>/", DepartmentLiveConsumer.as_asgi()),
    path("ws/machines/work-centers/<int:work_center_id>/", MachineLiveConsumer.as_asgi()),
    path("ws/machines/display/<str:token>/", DisplayLiveConsumer.as_asgi()),
]
