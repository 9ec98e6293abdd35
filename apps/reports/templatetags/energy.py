"""Formatting of energy figures in pages: kWh with one decimal, a dash without data (never 0 kWh)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from ..report_energy import kwh_text, per_part_text

register = template.Library()


@register.filter
def kwh(value: Any) -> str:
    return kwh_text(None if value is None or value == "" else Decimal(value))


@register.filter
def kwh_per_part(value: Any) -> str:
    return per_part_text(None if value is None or value == "" else Decimal(value))
