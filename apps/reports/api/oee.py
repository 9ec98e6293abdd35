"""OEE figures over REST: the plant (or a department) and one machine with its drill-down.

Query parameters are those of the dashboards (first_day, last_day, department, shift, granularity) and are
checked by the same form; a bad value is a 400 naming the field.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.machines.models import WorkCenter

from .. import oee
from ..figures import Period, machine_period
from ..payloads import machine_payload, plant_payload
from ..periods import DashboardFilterForm, plant_figures_asked

VIEW_OEE = "reports.view_oee"

FILTERS = [
    OpenApiParameter(
        "first_day", OpenApiTypes.DATE, description="First plant-local day (default: 6 days before the last)."
    ),
    OpenApiParameter("last_day", OpenApiTypes.DATE, description="Last plant-local day, included (default: today)."),
    OpenApiParameter("department", OpenApiTypes.INT, description="Only this department's machines."),
    OpenApiParameter("shift", OpenApiTypes.STR, description='Only this shift, by name (e.g. "1st").'),
    OpenApiParameter("granularity", OpenApiTypes.STR, enum=[g.value for g in oee.Granularity]),
]


def _filters(request: Request) -> DashboardFilterForm | Response:
    form = DashboardFilterForm(request.query_params)
    if not form.is_valid():
        return Response({"detail": form.errors.get_json_data(), "code": "invalid"}, status=400)
    return form


class PlantOeeView(APIView):
    """The plant's (or a department's) OEE with its departments, machines, trend, shifts and downtime Pareto."""

    required_permission = VIEW_OEE

    @extend_schema(parameters=FILTERS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        form = _filters(request)
        if isinstance(form, Response):
            return form
        figures = plant_figures_asked(form.cleaned_data)
        return Response(plant_payload(figures))


class MachineOeeView(APIView):
    """One machine's OEE, per shift, and every interval and count it was computed from."""

    required_permission = VIEW_OEE

    @extend_schema(parameters=FILTERS[:2], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        work_center = get_object_or_404(WorkCenter, pk=pk, is_active=True)
        form = _filters(request)
        if isinstance(form, Response):
            return form
        period = Period.of_days(form.cleaned_data["first_day"], form.cleaned_data["last_day"])
        machine, figures, per_shift = machine_period(work_center.pk, period)
        return Response(machine_payload(period, machine, figures, per_shift))
