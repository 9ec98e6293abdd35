"""WebSocket routes of every app, collected for asgi.py."""

from django.urls import path

from .consumers import JobProgressConsumer

websocket_urlpatterns = [
    path("ws/background-jobs/", JobProgressConsumer.as_asgi()),
]
