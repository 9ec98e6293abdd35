"""WSGI entry point (HTTP only; WebSockets need asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cnc_copilot.settings")

application = get_wsgi_application()
