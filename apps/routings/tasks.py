"""Celery tasks of routings (the worker registers tasks from each app's tasks module)."""

from .imports.tasks import import_data_task

__all__ = ["import_data_task"]
