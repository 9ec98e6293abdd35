"""Base classes for pages: every view declares who may open it, and the check lives here only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseBase

from .permissions import AUTHENTICATED, PUBLIC

F = TypeVar("F", bound=Callable[..., Any])


def refusal(exc: ValidationError | PermissionDenied) -> str:
    """A service's refusal in words for a page's message."""
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def form_problems(form: Any) -> str:
    """A form's errors on one line, each with its field's label, for a message on the page it came from."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(error) for error in errors)
        parts.append(f"{form.fields[name].label}: {text}" if name in form.fields else text)
    return " ".join(parts)


def user_may(user: Any, access: str) -> bool:
    """Whether `user` passes a route's declared access level or permission codename."""
    if access == PUBLIC:
        return True
    if not user.is_authenticated:
        return False
    return access == AUTHENTICATED or bool(user.has_perm(access))


class RoleRequiredMixin(AccessMixin):
    """Deny by default: a view without `required_permission` refuses to run.

    Anonymous users are sent to the login page; a signed-in user without the permission gets 403.
    """

    required_permission: str = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        access = self.required_permission
        if not access:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no required_permission")
        if access != PUBLIC and not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_may(request.user, access):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def access(level: str) -> Callable[[F], F]:
    """Declare the access of a function view (PUBLIC, AUTHENTICATED or a permission codename)."""

    def mark(view: F) -> F:
        view.required_permission = level  # type: ignore[attr-defined]
        return view

    return mark
