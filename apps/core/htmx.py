"""One view, two renderings: the full page, or only its partial when htmx asks for it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def render_page(
    request: HttpRequest,
    template: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """Render `template` for a normal request and `partial` for an htmx request.

    The page template includes the partial, so both paths show the same markup.
    """
    htmx = getattr(request, "htmx", None)
    is_htmx = bool(htmx) and not getattr(htmx, "boosted", False)
    response = TemplateResponse(request, partial if is_htmx else template, context, status=status)
    response["Vary"] = "HX-Request"
    return response


class HtmxPartialMixin:
    """For class-based views: set `partial_template_name` next to `template_name`."""

    partial_template_name: str = ""
    request: HttpRequest

    def get_template_names(self) -> list[str]:
        names: list[str] = super().get_template_names()  # type: ignore[misc]
        htmx = getattr(self.request, "htmx", None)
        if htmx and not htmx.boosted and self.partial_template_name:
            return [self.partial_template_name]
        return names
