from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Material
from .services import validate_material_dimensions


class MaterialForm(forms.ModelForm[Material]):
    class Meta:
        model = Material
        fields = (
            "code",
            "description",
            "grade",
            "form",
            "thickness_mm",
            "sheet_width_mm",
            "sheet_length_mm",
            "unit",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            validate_material_dimensions(
                form=cleaned["form"],
                sheet_width_mm=cleaned.get("sheet_width_mm"),
                sheet_length_mm=cleaned.get("sheet_length_mm"),
            )
        return cleaned


@admin.register(Material)
class MaterialAdmin(SimpleHistoryAdmin):
    form = MaterialForm
    list_display = (
        "code",
        "description",
        "grade",
        "form",
        "thickness_mm",
        "sheet_width_mm",
        "sheet_length_mm",
        "unit",
        "is_active",
    )
    list_filter = ("form", "unit", "is_active", "grade")
    search_fields = ("code", "description", "grade")
    list_select_related = True
