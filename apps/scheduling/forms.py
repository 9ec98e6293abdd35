"""Forms of the scheduling pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.machines.models import WorkCenter
from apps.scheduling.services import DEFAULT_HORIZON_DAYS

from .choices import Objective


class PlanningRunForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    horizon_days = forms.IntegerField(
        label=_("Horizon (days)"), min_value=1, max_value=90, initial=DEFAULT_HORIZON_DAYS
    )
    objective = forms.ChoiceField(label=_("Objective"), choices=Objective.choices, initial=Objective.LEXICOGRAPHIC)
    time_limit_seconds = forms.IntegerField(label=_("Time limit (s)"), min_value=1, max_value=3600, initial=60)
    workers = forms.IntegerField(label=_("Solver workers"), min_value=1, max_value=16, initial=2)
    allow_break_straddle = forms.BooleanField(label=_("Operations may pause over breaks"), required=False, initial=True)
    start_from_published = forms.BooleanField(
        label=_("Start from the published plan"),
        required=False,
        initial=True,
        help_text=_("Keeps its machines and order where they still apply, when that beats the dispatch rules."),
    )


class MoveSlotForm(forms.Form):
    slot = forms.IntegerField(label=_("Slot"), min_value=1)
    work_center = forms.ModelChoiceField(label=_("Machine"), queryset=WorkCenter.objects.filter(is_active=True))
    start = forms.DateTimeField(
        label=_("Start (plant time)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Codes only: the chart's rows are labelled by code, and the list stays short.
        self.fields["work_center"].label_from_instance = lambda wc: wc.code  # type: ignore[attr-defined]
