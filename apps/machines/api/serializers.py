from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from ..models import CalendarException, Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType
from ..services import BreakTimes, save_shift, validate_exception_period

# A working-time request longer than this is refused: a year is what planning looks ahead.
MAX_WORKING_TIME_SPAN = timedelta(days=366)


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ("id", "code", "name", "sequence")


class WorkCenterTypeSerializer(serializers.ModelSerializer[WorkCenterType]):
    class Meta:
        model = WorkCenterType
        fields = ("id", "code", "name", "department", "description")


class WorkCenterSerializer(serializers.ModelSerializer[WorkCenter]):
    class Meta:
        model = WorkCenter
        fields = (
            "id",
            "code",
            "name",
            "department",
            "work_center_type",
            "calendar",
            "efficiency",
            "setup_category",
            "is_bottleneck",
            "hourly_rate",
            "iot_device_id",
            "sigmanest_machine_id",
            "is_active",
        )
        # In or out of service goes through the deactivate / activate actions.
        read_only_fields = ("is_active",)


class ShiftBreakSerializer(serializers.ModelSerializer[ShiftBreak]):
    class Meta:
        model = ShiftBreak
        fields = ("start", "end")


class ShiftSerializer(serializers.ModelSerializer[Shift]):
    """A shift with its breaks; writing it replaces the breaks as a whole, through the service
    that checks they fit the shift."""

    breaks = ShiftBreakSerializer(many=True, required=False)

    class Meta:
        model = Shift
        fields = ("id", "calendar", "name", "weekday", "start", "end", "breaks")
        # The service checks the unique start with a message that says which shift clashes.
        validators: list[Any] = []

    def create(self, validated_data: dict[str, Any]) -> Shift:
        return self._save(validated_data, None)

    def update(self, instance: Shift, validated_data: dict[str, Any]) -> Shift:
        return self._save({**self._current(instance), **validated_data}, instance.pk)

    def _save(self, data: dict[str, Any], shift_id: int | None) -> Shift:
        breaks = [BreakTimes(b["start"], b["end"]) for b in data.get("breaks", [])]
        return save_shift(
            actor=self.context["request"].user,
            calendar_id=data["calendar"].pk,
            name=data["name"],
            weekday=data["weekday"],
            start=data["start"],
            end=data["end"],
            breaks=breaks,
            shift_id=shift_id,
        )

    @staticmethod
    def _current(shift: Shift) -> dict[str, Any]:
        return {
            "calendar": shift.calendar,
            "name": shift.name,
            "weekday": shift.weekday,
            "start": shift.start,
            "end": shift.end,
            "breaks": [{"start": b.start, "end": b.end} for b in shift.breaks.all()],
        }


class CalendarShiftSerializer(serializers.ModelSerializer[Shift]):
    breaks = ShiftBreakSerializer(many=True, read_only=True)

    class Meta:
        model = Shift
        fields = ("id", "name", "weekday", "start", "end", "breaks")
        read_only_fields = fields


class ShiftCalendarSerializer(serializers.ModelSerializer[ShiftCalendar]):
    """A calendar and its weekly pattern (read here; shifts are written at /machines/shifts/)."""

    shifts = CalendarShiftSerializer(many=True, read_only=True)

    class Meta:
        model = ShiftCalendar
        fields = ("id", "name", "description", "is_plant_default", "shifts")
        # The plant default is switched by the set-plant-default action, never two at once.
        read_only_fields = ("is_plant_default",)


class CalendarExceptionSerializer(serializers.ModelSerializer[CalendarException]):
    class Meta:
        model = CalendarException
        fields = ("id", "kind", "name", "work_center", "start_date", "end_date", "starts_at", "ends_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            key: attrs.get(key, getattr(self.instance, key, None))
            for key in ("start_date", "end_date", "starts_at", "ends_at")
        }
        validate_exception_period(**merged)
        return attrs


class WorkingTimeQuerySerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField(help_text="ISO 8601; without an offset it is read as UTC.")
    end = serializers.DateTimeField(help_text="ISO 8601, after start, at most 366 days later.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": _("The end must be after the start.")})
        if attrs["end"] - attrs["start"] > MAX_WORKING_TIME_SPAN:
            raise serializers.ValidationError({"end": _("Ask for at most 366 days at a time.")})
        return attrs


class IntervalSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class WorkingTimeSerializer(serializers.Serializer[Any]):
    work_center = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    minutes = serializers.IntegerField(help_text="Total working minutes in the range.")
    intervals = IntervalSerializer(many=True, help_text="When the work center can run, in UTC, sorted and merged.")
