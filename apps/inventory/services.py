"""Rules of inventory that the tables cannot express."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import MaterialForm


def validate_material_dimensions(*, form: str, sheet_width_mm: Decimal | None, sheet_length_mm: Decimal | None) -> None:
    """Sheets are bought by width and length and coils by width: nesting needs them. Tube and bar
    may carry a stock length in the length field. Sizes that are given are positive."""
    errors: dict[str, str] = {}
    if form in (MaterialForm.SHEET, MaterialForm.COIL) and sheet_width_mm is None:
        errors["sheet_width_mm"] = _("A sheet or coil needs its width.")
    if form == MaterialForm.SHEET and sheet_length_mm is None:
        errors["sheet_length_mm"] = _("A sheet needs its length.")
    for field, value in (("sheet_width_mm", sheet_width_mm), ("sheet_length_mm", sheet_length_mm)):
        if value is not None and value <= 0:
            errors[field] = _("Must be more than zero.")
    if errors:
        raise ValidationError(errors)
