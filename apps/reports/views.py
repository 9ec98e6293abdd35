"""OEE dashboards: the plant, a department and a machine, with date, shift and department filters.

Every chart is server-rendered SVG from `charts`, the same module the PDF reports use; every figure links
down to the intervals and counts it came from (the machine page).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from apps.core.views_base import RoleRequiredMixin
from apps.machines.models import STATE_CHOICES, Department, WorkCenter
from apps.machines.selectors import plant_time_zone

from . import charts, oee
from .figures import (
    SIX_BIG_LOSSES,
    WORLD_CLASS,
    GroupFigures,
    MachineFigures,
    PlantFigures,
    chart_words,
    loss_minutes,
    loss_series,
    machine_period,
)
from .periods import asked, filter_form, period_from, plant_figures_asked
from .report_energy import daily_chart, energy_by_day
from .selectors import Scope
from .targets import targets_for

VIEW_OEE = "reports.view_oee"


def _svg(markup: str) -> SafeString:
    """`charts` escapes every label it prints, so its SVG goes into the page as it is."""
    return mark_safe(markup)


class PlantDashboardView(RoleRequiredMixin, TemplateView):
    """The plant (or one department, with `?department=`): OEE, its trend, shifts, machines and losses."""

    required_permission = VIEW_OEE
    template_name = "reports/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = filter_form(self.request)
        data = asked(form)
        period = period_from(form)
        department = data.get("department")
        figures = plant_figures_asked(data)
        target = targets_for(department_id=department.pk if department else None)
        context.update(
            form=form,
            period=period,
            department=department,
            figures=figures,
            target=target,
            world_class=WORLD_CLASS,
            charts=_plant_charts(figures, target.oee),
            gauges=_gauges(figures.plant, target),
            paretos=[
                (_("By reason"), figures.pareto_by_reason),
                (_("By machine"), figures.pareto_by_machine),
                (_("By department"), figures.pareto_by_department),
            ],
            machine_rows=_machine_rows(self.request, figures),
            department_rows=_department_rows(self.request, figures),
            six_losses=[(label, loss_minutes(figures.plant)[key]) for key, label in SIX_BIG_LOSSES],
            query=self.request.GET.urlencode(),
        )
        return context


def _machine_rows(request: HttpRequest, figures: PlantFigures) -> list[tuple[MachineFigures, str]]:
    """Each machine with its page for the same period and shift, where its figures are broken down."""
    query = request.GET.copy()
    query.pop("department", None)
    suffix = f"?{query.urlencode()}" if query else ""
    # One reverse() for all rows: resolving the URL per machine cost a millisecond each.
    pattern = reverse("reports:machine", args=[0]).replace("/0/", "/{}/")
    return [(m, pattern.format(m.machine.machine_id) + suffix) for m in figures.machines]


def _department_rows(request: HttpRequest, figures: PlantFigures) -> list[tuple[GroupFigures, str]]:
    ids = dict(Department.objects.values_list("name", "pk"))
    rows = []
    for group in figures.departments:
        query = request.GET.copy()
        query["department"] = str(ids.get(group.label, ""))
        rows.append((group, f"{reverse('reports:dashboard')}?{query.urlencode()}"))
    return rows


def _gauges(figures: oee.OeeFigures, target: Any) -> list[str]:
    w = chart_words()
    return [
        _svg(charts.gauge(figures.oee, label=_("OEE"), target=target.oee, words=w)),
        _svg(charts.gauge(figures.availability, label=_("Availability"), target=target.availability, words=w)),
        _svg(charts.gauge(figures.performance, label=_("Performance"), target=target.performance, words=w)),
        _svg(charts.gauge(figures.quality, label=_("Quality"), target=target.quality, words=w)),
    ]


def _plant_charts(figures: PlantFigures, target_oee: Any) -> dict[str, Any]:
    w = chart_words()
    return {
        "trend": _svg(
            charts.trend(
                [(window.label, f.oee) for window, f in figures.trend], title=_("OEE trend"), target=target_oee, words=w
            )
        ),
        "machines": _svg(
            charts.bars(
                [(m.machine.code, m.figures.oee) for m in figures.machines],
                title=_("OEE per machine"),
                target=target_oee,
                words=w,
            )
        ),
        "shifts": _svg(
            charts.stacked_bars(
                [name for name, _f in figures.shifts],
                loss_series([f for _name, f in figures.shifts]),
                title=_("Losses per shift (minutes)"),
                words=w,
            )
        ),
        "pareto": _svg(
            charts.pareto(
                [(row.label, row.minutes, row.cumulative_share) for row in figures.pareto_by_reason[:12]],
                title=_("Downtime by reason"),
                words=w,
            )
        ),
    }


class MachineDashboardView(RoleRequiredMixin, TemplateView):
    """One machine: gauges, its six big losses, MTBF and MTTR, per shift, and every interval and count behind them."""

    required_permission = VIEW_OEE
    template_name = "reports/machine.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.work_center = get_object_or_404(WorkCenter.objects.select_related("department"), pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = filter_form(self.request)
        period = period_from(form)
        try:
            machine, figures, per_shift = machine_period(self.work_center.pk, period)
        except LookupError as exc:
            raise Http404(_("This machine is not active.")) from exc
        target = targets_for(department_id=self.work_center.department_id, work_center_id=self.work_center.pk)
        total = max(int((period.end - period.start).total_seconds()), 1)
        strip = charts.state_strip(
            [
                (int((p.start - period.start).total_seconds()), int((p.end - period.start).total_seconds()), p.state)
                for p in figures.pieces
            ],
            total_seconds=total,
            state_labels={code: str(label) for code, label in STATE_CHOICES},
            words=chart_words(),
        )
        context.update(
            form=form,
            period=period,
            work_center=self.work_center,
            machine=machine,
            figures=figures,
            per_shift=per_shift,
            target=target,
            gauges=_gauges(figures, target),
            strip=_svg(strip),
            losses=_svg(
                charts.stacked_bars(
                    [w.label for w, _f in per_shift],
                    loss_series([f for _w, f in per_shift]),
                    title=_("Losses per shift (minutes)"),
                    words=chart_words(),
                )
            ),
            time_zone=plant_time_zone(),
            query=self.request.GET.urlencode(),
        )
        days, energies = energy_by_day(Scope(work_center_ids=(self.work_center.pk,)), period)
        energy = energies[0] if energies else None
        context.update(
            energy=energy,
            energy_chart=_svg(daily_chart(days, energy.per_window)) if energy and energy.energy.has_data else "",
        )
        return context
