"""Machine-facing endpoints speak UTC; pages speak the plant's time zone (settings.TIME_ZONE)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

UTC_PREFIXES = ("/api/", "/graphql/")


class MachineTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(UTC_PREFIXES):
            with timezone.override(UTC):
                return self.get_response(request)
        return self.get_response(request)
