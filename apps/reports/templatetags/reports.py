"""Formatting of OEE figures in pages: a ratio as "85.3 %", seconds as minutes, state and category names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from apps.machines.models import STATE_CHOICES

from ..figures import percent
from ..oee import Category

register = template.Library()

_STATES = dict(STATE_CHOICES)


@register.filter
def pct(value: Any) -> str:
    """A ratio as a percentage with one decimal; None (no data) as a dash, never 0 %."""
    return percent(None if value == "" else value)


@register.filter
def minutes(seconds: Any) -> str:
    if seconds is None:
        return "—"
    return f"{Decimal(seconds) / 60:.1f}"


@register.filter
def state_label(state: str) -> str:
    return str(_STATES.get(state, state))


def category_labels() -> dict[str, str]:
    return {
        Category.RUN: _("Running"),
        Category.SETUP: _("Setup (availability loss)"),
        Category.SMALL_STOP: _("Small stop (performance loss)"),
        Category.BREAKDOWN: _("Stop (availability loss)"),
        Category.BREAK: _("Break (planned)"),
        Category.PLANNED_MAINTENANCE: _("Planned maintenance"),
        Category.PLANNED_STOP: _("Planned stop"),
        Category.NO_WORK: _("No work scheduled"),
        Category.NO_DATA: _("No data"),
        Category.NOT_SCHEDULED: _("Outside shifts"),
    }


@register.filter
def category_label(category: str) -> str:
    return category_labels().get(category, category)
