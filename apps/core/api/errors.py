"""Errors in one shape for every endpoint: {"detail": "...", "code": "...", "fields": {...}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, in words a person can act on.")
    code = serializers.CharField(help_text="A stable machine-readable code.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages for invalid input.",
    )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the shop's data.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        exc = exceptions.ValidationError(fields or {"non_field_errors": exc.messages})
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": "The request is not valid.", "code": "invalid", "fields": fields}
    elif isinstance(data, dict) and "detail" in data:
        code = getattr(data["detail"], "code", "error")
        response.data = {"detail": str(data["detail"]), "code": str(code)}
    return response
