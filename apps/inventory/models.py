from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel

from .choices import MaterialForm, Unit


class Material(TimeStampedModel):
    """Raw material as bought: 16 ga 304 #4 sheet 48×120, 11 ga HRPO, 1" square tube…"""

    code = models.CharField(_("code"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200)
    grade = models.CharField(_("grade"), max_length=60, help_text=_('e.g. "304 #4", "CRS", "5052-H32"'))
    form = models.CharField(_("form"), max_length=10, choices=MaterialForm.choices, default=MaterialForm.SHEET)
    thickness_mm = models.DecimalField(_("thickness (mm)"), max_digits=7, decimal_places=3)
    sheet_width_mm = models.DecimalField(_("sheet width (mm)"), max_digits=8, decimal_places=1, null=True, blank=True)
    sheet_length_mm = models.DecimalField(_("sheet length (mm)"), max_digits=8, decimal_places=1, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.SHEET)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("code",)
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        constraints = [models.CheckConstraint(condition=models.Q(thickness_mm__gt=0), name="inventory_thickness_pos")]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"
