"""The machines resources pass the API contract, plus their workflow actions and writes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.testing import ActionCase, ResourceContract
from apps.machines.choices import ExceptionKind
from apps.machines.models import (
    CalendarException,
    Department,
    Shift,
    ShiftBreak,
    ShiftCalendar,
    WorkCenter,
    WorkCenterType,
)

from .shop import SAT, day_shift_calendar, department, laser, utc, work_center, work_center_type

_serial = itertools.count(1)


def _z(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


class TestDepartmentAPI(ResourceContract):
    basename = "machines-department"
    allowed_role = "operator"
    graphql_list = "departments"
    graphql_fields = "id code name sequence"
    filter_case = ("code", "weld")
    create_data = {"code": "paint", "name": "Paint line", "sequence": 8}
    create_role = "production_manager"

    def make_object(self, index: int) -> Department:
        code = "weld" if index == 1 else f"dept-{next(_serial)}"
        return Department.objects.create(code=code, name=code.title(), sequence=index)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.pk, "code": obj.code, "name": obj.name, "sequence": obj.sequence}


class TestWorkCenterTypeAPI(ResourceContract):
    basename = "machines-workcentertype"
    allowed_role = "operator"
    graphql_list = "workCenterTypes"
    graphql_fields = "id code name department { id code }"
    filter_case = ("code", "press-brake-135t")

    def make_object(self, index: int) -> WorkCenterType:
        code = "press-brake-135t" if index == 1 else f"type-{next(_serial)}"
        return work_center_type(code, department(), name="Press brake 135 t", description="CNC back gauge")

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "code": obj.code,
            "name": "Press brake 135 t",
            "department": obj.department_id,
            "description": "CNC back gauge",
        }


class TestWorkCenterAPI(ResourceContract):
    basename = "machines-workcenter"
    allowed_role = "operator"
    graphql_list = "workCenters"
    graphql_fields = "id code efficiency isBottleneck department { code } workCenterType { code } calendar { name }"
    filter_case = ("is_bottleneck", "true")
    actions = (
        ActionCase(
            name="deactivate",
            allowed_role="production_manager",
            denied_role="maintenance",
            state=lambda wc: wc.is_active,
        ),
    )

    def make_object(self, index: int) -> WorkCenter:
        return work_center(
            f"laser-{next(_serial)}",
            efficiency=Decimal("1.25"),
            setup_category="fiber",
            is_bottleneck=index == 1,
            hourly_rate=Decimal("145.00"),
            iot_device_id=f"edge-{next(_serial)}",
            sigmanest_machine_id="TRUMPF-3030",
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "code": obj.code,
            "name": obj.name,
            "department": obj.department_id,
            "work_center_type": obj.work_center_type_id,
            "calendar": None,
            "efficiency": "1.25",
            "setup_category": "fiber",
            "is_bottleneck": obj.is_bottleneck,
            "hourly_rate": "145.00",
            "iot_device_id": obj.iot_device_id,
            "sigmanest_machine_id": "TRUMPF-3030",
            "is_active": True,
        }


class TestShiftCalendarAPI(ResourceContract):
    basename = "machines-shiftcalendar"
    allowed_role = "operator"
    graphql_list = "shiftCalendars"
    graphql_fields = "id name isPlantDefault shifts { weekday start end breaks { start end } }"
    filter_case = ("is_plant_default", "true")
    create_data = {"name": "Weekend crew", "description": "Saturday and Sunday"}
    create_role = "production_manager"
    actions = (
        ActionCase(
            name="set-plant-default",
            allowed_role="production_manager",
            denied_role="planner",
            state=lambda calendar: calendar.is_plant_default,
        ),
    )

    def make_object(self, index: int) -> ShiftCalendar:
        calendar = ShiftCalendar.objects.create(
            name=f"Calendar {next(_serial)}", description="Lasers", is_plant_default=index == 1
        )
        shift = Shift.objects.create(calendar=calendar, name="1st", weekday=0, start=time(6), end=time(14, 30))
        ShiftBreak.objects.create(shift=shift, start=time(10), end=time(10, 30))
        Shift.objects.create(calendar=calendar, name="3rd", weekday=0, start=time(22), end=time(6))
        return calendar

    def expected(self, obj: Any) -> dict[str, Any]:
        first, night = obj.shifts.order_by("start")
        return {
            "id": obj.pk,
            "name": obj.name,
            "description": "Lasers",
            "is_plant_default": obj.is_plant_default,
            "shifts": [
                {
                    "id": first.pk,
                    "name": "1st",
                    "weekday": 0,
                    "start": "06:00:00",
                    "end": "14:30:00",
                    "breaks": [{"start": "10:00:00", "end": "10:30:00"}],
                },
                {"id": night.pk, "name": "3rd", "weekday": 0, "start": "22:00:00", "end": "06:00:00", "breaks": []},
            ],
        }


class TestShiftAPI(ResourceContract):
    basename = "machines-shift"
    allowed_role = "operator"
    filter_case = ("weekday", "5")

    def make_object(self, index: int) -> Shift:
        calendar = ShiftCalendar.objects.create(name=f"Calendar {next(_serial)}")
        shift = Shift.objects.create(
            calendar=calendar, name="Overtime", weekday=SAT if index == 1 else 0, start=time(6), end=time(12)
        )
        ShiftBreak.objects.create(shift=shift, start=time(9), end=time(9, 15))
        return shift

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "calendar": obj.calendar_id,
            "name": "Overtime",
            "weekday": obj.weekday,
            "start": "06:00:00",
            "end": "12:00:00",
            "breaks": [{"start": "09:00:00", "end": "09:15:00"}],
        }


class TestCalendarExceptionAPI(ResourceContract):
    basename = "machines-calendarexception"
    allowed_role = "operator"
    graphql_list = "calendarExceptions"
    graphql_fields = "id kind name startDate endDate startsAt endsAt workCenter { code }"
    filter_case = ("kind", "overtime")
    create_data = {"kind": "holiday", "name": "Labor Day", "start_date": "2026-09-07", "end_date": "2026-09-07"}
    create_role = "maintenance"

    def make_object(self, index: int) -> CalendarException:
        if index == 1:
            return CalendarException.objects.create(
                kind=ExceptionKind.OVERTIME,
                name="Saturday overtime",
                work_center=laser(f"laser-{next(_serial)}"),
                starts_at=utc(2026, 1, 10, 12),
                ends_at=utc(2026, 1, 10, 18),
            )
        return CalendarException.objects.create(
            kind=ExceptionKind.HOLIDAY, name="Christmas", start_date=date(2026, 12, 24), end_date=date(2026, 12, 25)
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        if obj.starts_at:
            return {
                "id": obj.pk,
                "kind": "overtime",
                "name": "Saturday overtime",
                "work_center": obj.work_center_id,
                "start_date": None,
                "end_date": None,
                "starts_at": "2026-01-10T12:00:00Z",
                "ends_at": "2026-01-10T18:00:00Z",
            }
        return {
            "id": obj.pk,
            "kind": "holiday",
            "name": "Christmas",
            "work_center": None,
            "start_date": "2026-12-24",
            "end_date": "2026-12-25",
            "starts_at": None,
            "ends_at": None,
        }


# --- working time ----------------------------------------------------------------------------


def _working_time_url(wc: WorkCenter) -> str:
    return reverse("machines-workcenter-working-time", kwargs={"pk": wc.pk})


@pytest.mark.django_db
def test_working_time_returns_utc_intervals(client_for: Callable[[str], Any]) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1")

    response = client_for("operator").get(
        _working_time_url(wc), {"start": "2026-01-05T00:00:00-06:00", "end": "2026-01-06T00:00:00-06:00"}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "work_center": wc.pk,
        "start": "2026-01-05T06:00:00Z",
        "end": "2026-01-06T06:00:00Z",
        "minutes": 480,
        "intervals": [
            {"start": "2026-01-05T12:00:00Z", "end": "2026-01-05T16:00:00Z"},
            {"start": "2026-01-05T16:30:00Z", "end": "2026-01-05T20:30:00Z"},
        ],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, {"start": ["This field is required."], "end": ["This field is required."]}),
        (
            {"start": "2026-01-06T00:00:00Z", "end": "2026-01-05T00:00:00Z"},
            {"end": ["The end must be after the start."]},
        ),
        (
            {"start": "2026-01-01T00:00:00Z", "end": "2027-01-03T00:00:00Z"},
            {"end": ["Ask for at most 366 days at a time."]},
        ),
    ],
)
def test_working_time_refuses_bad_ranges(
    client_for: Callable[[str], Any], query: dict[str, str], fields: dict[str, list[str]]
) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1")

    response = client_for("operator").get(_working_time_url(wc), query)

    assert response.status_code == 400
    assert response.json() == {"detail": "The request is not valid.", "code": "invalid", "fields": fields}


@pytest.mark.django_db
def test_working_time_without_any_calendar_is_a_conflict(client_for: Callable[[str], Any]) -> None:
    wc = laser("laser-1")

    response = client_for("operator").get(
        _working_time_url(wc), {"start": "2026-01-05T00:00:00Z", "end": "2026-01-06T00:00:00Z"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "no_shift_calendar"
    assert response.json()["detail"].startswith("Work center laser-1 has no shift calendar")


@pytest.mark.django_db
def test_working_time_is_refused_to_an_outsider(client_for: Callable[[str], Any]) -> None:
    wc = laser("laser-1")

    response = client_for("outsider").get(
        _working_time_url(wc), {"start": "2026-01-05T00:00:00Z", "end": "2026-01-06T00:00:00Z"}
    )

    assert response.status_code == 403


# --- writes ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_activate_puts_a_work_center_back(client_for: Callable[[str], Any]) -> None:
    wc = laser("laser-1", is_active=False)

    response = client_for("production_manager").post(reverse("machines-workcenter-activate", kwargs={"pk": wc.pk}))

    assert response.status_code == 200
    assert response.json()["is_active"] is True


@pytest.mark.django_db
def test_create_work_center_ignores_is_active(client_for: Callable[[str], Any]) -> None:
    kind = work_center_type("fiber-laser-3kw", department("laser"))
    body = {
        "code": "laser-4",
        "name": "Fiber laser 4",
        "department": kind.department_id,
        "work_center_type": kind.pk,
        "efficiency": "1.10",
        "is_active": False,
    }

    assert client_for("supervisor").post(reverse("machines-workcenter-list"), body, format="json").status_code == 403
    response = client_for("production_manager").post(reverse("machines-workcenter-list"), body, format="json")

    assert response.status_code == 201, response.content
    created = WorkCenter.objects.get(code="laser-4")
    assert (created.is_active, created.efficiency, created.calendar) == (True, Decimal("1.10"), None)


@pytest.mark.django_db
def test_create_shift_with_breaks_through_the_service(client_for: Callable[[str], Any]) -> None:
    calendar = ShiftCalendar.objects.create(name="Nights")
    body = {
        "calendar": calendar.pk,
        "name": "3rd shift",
        "weekday": 0,
        "start": "22:00",
        "end": "06:00",
        "breaks": [{"start": "02:00", "end": "02:30"}],
    }

    response = client_for("production_manager").post(reverse("machines-shift-list"), body, format="json")

    assert response.status_code == 201, response.content
    shift = Shift.objects.get(calendar=calendar)
    assert response.json() == {
        "id": shift.pk,
        "calendar": calendar.pk,
        "name": "3rd shift",
        "weekday": 0,
        "start": "22:00:00",
        "end": "06:00:00",
        "breaks": [{"start": "02:00:00", "end": "02:30:00"}],
    }


@pytest.mark.django_db
def test_shift_with_a_break_outside_is_refused_and_nothing_is_written(client_for: Callable[[str], Any]) -> None:
    calendar = ShiftCalendar.objects.create(name="Days")
    body = {
        "calendar": calendar.pk,
        "name": "1st",
        "weekday": 0,
        "start": "06:00",
        "end": "14:00",
        "breaks": [{"start": "14:00", "end": "14:30"}],
    }

    response = client_for("production_manager").post(reverse("machines-shift-list"), body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "non_field_errors": ["The break 14:00–14:30 lies outside the shift 06:00–14:00."]
    }
    assert Shift.objects.count() == 0


@pytest.mark.django_db
def test_patch_shift_times_keeps_breaks_and_rechecks_them(client_for: Callable[[str], Any]) -> None:
    calendar = day_shift_calendar()
    shift = calendar.shifts.get(weekday=0)
    url = reverse("machines-shift-detail", kwargs={"pk": shift.pk})
    client = client_for("production_manager")

    moved = client.patch(url, {"end": "15:00"}, format="json")
    too_short = client.patch(url, {"end": "10:15"}, format="json")

    assert moved.status_code == 200, moved.content
    assert moved.json()["breaks"] == [{"start": "10:00:00", "end": "10:30:00"}]
    assert too_short.status_code == 400
    shift.refresh_from_db()
    assert (shift.end, shift.breaks.count()) == (time(15), 1)


@pytest.mark.django_db
def test_calendar_exception_with_days_and_times_is_refused(client_for: Callable[[str], Any]) -> None:
    body = {
        "kind": "shutdown",
        "name": "Both",
        "start_date": "2026-07-03",
        "end_date": "2026-07-03",
        "starts_at": "2026-07-03T12:00:00Z",
        "ends_at": "2026-07-03T18:00:00Z",
    }

    response = client_for("maintenance").post(reverse("machines-calendarexception-list"), body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "non_field_errors": ["Give either the first and last day, or the start and end time, not both."]
    }
    assert CalendarException.objects.count() == 0


@pytest.mark.django_db
def test_is_plant_default_is_read_only(client_for: Callable[[str], Any]) -> None:
    calendar = day_shift_calendar()

    response = client_for("production_manager").patch(
        reverse("machines-shiftcalendar-detail", kwargs={"pk": calendar.pk}), {"is_plant_default": True}, format="json"
    )

    assert response.status_code == 200
    assert ShiftCalendar.objects.get(pk=calendar.pk).is_plant_default is False


@pytest.mark.django_db
def test_deleting_a_department_in_use_is_a_conflict(client_for: Callable[[str], Any]) -> None:
    wc = laser("laser-1")

    response = client_for("admin").delete(reverse("machines-department-detail", kwargs={"pk": wc.department_id}))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Laser is still used by 2 other records; deactivate it or move them first.",
        "code": "conflict",
    }
    assert Department.objects.filter(pk=wc.department_id).exists()


@pytest.mark.django_db
def test_work_center_list_queries_do_not_grow(
    client_for: Callable[[str], Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for("operator")
    laser("laser-0")
    with CaptureQueriesContext(connection) as one_row:
        client.get(reverse("machines-workcenter-list"))
    for n in range(1, 35):
        laser(f"laser-{n}")

    # Session, user, second factor, groups, permissions (6) and the session save (3) are fixed.
    with django_assert_max_num_queries(len(one_row)):
        page = client.get(reverse("machines-workcenter-list"), {"page_size": 100}).json()

    assert page["count"] == 35
    assert len(one_row) == 11
