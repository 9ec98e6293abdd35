"""GraphQL of reports: OEE figures (JSON shaped as in the REST API), report runs and "run now"."""

from __future__ import annotations

from typing import Any

import graphene
from django.core.exceptions import ValidationError
from graphene.types.generic import GenericScalar
from graphql import GraphQLError

from apps.core.graphql.base import ShopMutation, ShopObjectType, check_access, list_field, resolve_list, view_permission
from apps.machines.models import WorkCenter

from ..definitions import ReportParameters
from ..figures import Period, machine_period
from ..models import ReportRun
from ..payloads import machine_payload, plant_payload
from ..periods import DashboardFilterForm, plant_figures_asked
from ..services import FORMATS, REQUEST_RUN, request_report_run

VIEW_OEE = "reports.view_oee"


class ReportRunType(ShopObjectType):
    class Meta:
        model = ReportRun
        name = "ReportRun"
        fields = (
            "id",
            "report",
            "parameters",
            "formats",
            "period_start",
            "period_end",
            "status",
            "error",
            "created_at",
            "finished_at",
            "delivery_status",
        )


def _period_form(**arguments: Any) -> DashboardFilterForm:
    form = DashboardFilterForm({key: value for key, value in arguments.items() if value is not None})
    if not form.is_valid():
        raise GraphQLError(str(form.errors.get_json_data()), extensions={"code": "BAD_USER_INPUT"})
    return form


PERIOD_ARGUMENTS = {
    "first_day": graphene.Date(description="First plant-local day (default: six days before the last day)."),
    "last_day": graphene.Date(description="Last plant-local day, included (default: today)."),
}


class ReportsQuery(graphene.ObjectType):
    oee = GenericScalar(
        **PERIOD_ARGUMENTS,
        department=graphene.ID(),
        shift=graphene.String(),
        granularity=graphene.String(),
        description="The plant's (or a department's) OEE, as GET /api/v1/reports/oee/ gives it.",
    )
    machine_oee = GenericScalar(
        id=graphene.ID(required=True),
        **PERIOD_ARGUMENTS,
        description="One machine's OEE with the intervals and counts behind it.",
    )
    report_runs = list_field(ReportRunType, report=graphene.String(), status=graphene.String())
    report_run = graphene.Field(ReportRunType, id=graphene.ID(required=True))

    def resolve_oee(self, info: Any, **arguments: Any) -> dict[str, Any]:
        check_access(info, VIEW_OEE)
        figures = plant_figures_asked(_period_form(**arguments).cleaned_data)
        return plant_payload(figures)

    def resolve_machine_oee(self, info: Any, id: str, **arguments: Any) -> dict[str, Any] | None:
        check_access(info, VIEW_OEE)
        data = _period_form(**arguments).cleaned_data
        if not str(id).isdigit() or not WorkCenter.objects.filter(pk=int(id), is_active=True).exists():
            return None
        period = Period.of_days(data["first_day"], data["last_day"])
        return machine_payload(period, *machine_period(int(id), period))

    def resolve_report_runs(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(ReportRunType, info, **kwargs)

    def resolve_report_run(self, info: Any, id: str) -> ReportRun | None:
        check_access(info, view_permission(ReportRun))
        return ReportRun.objects.filter(pk=id).first() if str(id).isdigit() else None


class RequestReportRun(ShopMutation):
    """Run a report now as a background job; poll `reportRun(id)` until it succeeded, then download its files."""

    required_permission = REQUEST_RUN

    class Arguments:
        report = graphene.String(required=True)
        first_day = graphene.Date(required=True)
        last_day = graphene.Date(required=True)
        department = graphene.ID()
        language = graphene.String(default_value="en")

    run = graphene.Field(ReportRunType)

    @classmethod
    def perform(cls, root: Any, info: Any, **arguments: Any) -> RequestReportRun:
        department = arguments.get("department")
        if department is not None and not str(department).isdigit():
            raise GraphQLError("department must be an id.", extensions={"code": "BAD_USER_INPUT"})
        parameters = ReportParameters(
            period_start=arguments["first_day"],
            period_end=arguments["last_day"],
            department_id=int(department) if department is not None else None,
            language=arguments["language"],
        )
        try:
            run = request_report_run(
                actor=info.context.user, code=arguments["report"], parameters=parameters, formats=FORMATS
            )
        except ValidationError as exc:
            raise GraphQLError(" ".join(exc.messages), extensions={"code": "INVALID"}) from exc
        return RequestReportRun(run=run)


class ReportsMutation(graphene.ObjectType):
    request_report_run = RequestReportRun.Field()
