"""Materials and customers: flat tables keyed by their code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from apps.inventory.choices import MaterialForm, Unit
from apps.inventory.models import Material

from ...models import Customer
from ..cells import Choice, DecimalNumber, Text, YesNo
from .base import Column, ModelKind


class MaterialKind(ModelKind):
    slug = "materials"
    label = gettext_lazy("materials")
    model = Material
    key = key_field = "code"
    columns = (
        Column("code", Text(), gettext_lazy("Material code as bought."), required=True, example="SS304-16-4896"),
        Column(
            "description",
            Text(),
            gettext_lazy("What it is."),
            required=True,
            example='16 ga 304 #4 sheet 48x96"',
            width=30,
        ),
        Column("grade", Text(), gettext_lazy("Alloy and finish."), required=True, example="304 #4"),
        Column("form", Choice(MaterialForm), gettext_lazy("sheet, coil, tube or bar; blank = sheet."), example="sheet"),
        Column(
            "thickness_mm",
            DecimalNumber(positive=True),
            gettext_lazy("Thickness in mm."),
            required=True,
            example="1.519",
            number_format="0.000",
        ),
        Column(
            "sheet_width_mm",
            DecimalNumber(positive=True),
            gettext_lazy("Sheet width in mm; blank for coil, tube, bar."),
            example="1219.2",
            width=16,
            number_format="0.0",
        ),
        Column(
            "sheet_length_mm",
            DecimalNumber(positive=True),
            gettext_lazy("Sheet length in mm."),
            example="2438.4",
            width=16,
            number_format="0.0",
        ),
        Column("unit", Choice(Unit), gettext_lazy("sheet, kg, m or ea; blank = sheet."), example="sheet"),
        Column("active", YesNo(), gettext_lazy("yes or no; blank = yes."), example="yes"),
    )
    fields = {
        "code": "code",
        "description": "description",
        "grade": "grade",
        "form": "form",
        "thickness_mm": "thickness_mm",
        "sheet_width_mm": "sheet_width_mm",
        "sheet_length_mm": "sheet_length_mm",
        "unit": "unit",
        "active": "is_active",
    }


class CustomerKind(ModelKind):
    slug = "customers"
    label = gettext_lazy("customers")
    model = Customer
    key = key_field = "code"
    columns = (
        Column("code", Text(), gettext_lazy("Customer code."), required=True, example="HOBART"),
        Column("name", Text(), gettext_lazy("Company name."), required=True, example="Hobart Service", width=30),
        Column("email", Text(), gettext_lazy("E-mail for order questions."), width=26),
        Column("phone", Text(), gettext_lazy("Phone."), example="+1 312 555 0100", width=16),
        Column("active", YesNo(), gettext_lazy("yes or no; blank = yes."), example="yes"),
    )
    fields = {"code": "code", "name": "name", "email": "email", "phone": "phone", "active": "is_active"}
