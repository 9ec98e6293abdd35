"""The Celery application: broker and options come from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cnc_copilot.settings")

app = Celery("cnc_copilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
