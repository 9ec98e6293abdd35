from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import Job, OperatorLogRecord


class BackgroundJobSerializer(serializers.ModelSerializer[Job]):
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Job
        fields = (
            "id",
            "kind",
            "name",
            "status",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
            "progress_detail",
            "log",
            "result",
            "error",
            "cancel_requested",
        )
        read_only_fields = fields


class OperatorLogRecordSerializer(serializers.ModelSerializer[OperatorLogRecord]):
    class Meta:
        model = OperatorLogRecord
        fields = ("id", "logged_at", "level", "source", "message", "request_id")
        read_only_fields = fields


class EmptySerializer(serializers.Serializer[Any]):
    """For actions that take no body."""
