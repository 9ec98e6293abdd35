"""The notifications page: a person's own messages, newest first, and "mark all read"."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import ListView, View

from .models import Notification
from .notifications import mark_read
from .permissions import AUTHENTICATED
from .views_base import RoleRequiredMixin


class NotificationListView(RoleRequiredMixin, ListView[Notification]):
    required_permission = AUTHENTICATED
    template_name = "core/notifications.html"
    context_object_name = "notifications"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.filter(user=cast(Any, self.request.user)).order_by("-created_at", "-pk")


class NotificationMarkAllReadView(RoleRequiredMixin, View):
    required_permission = AUTHENTICATED
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        mark_read(request.user)
        return redirect("core:notifications")
