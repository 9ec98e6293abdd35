from django.db import models
from django.utils.translation import gettext_lazy as _


class MaterialForm(models.TextChoices):
    SHEET = "sheet", _("Sheet")
    COIL = "coil", _("Coil")
    TUBE = "tube", _("Tube")
    BAR = "bar", _("Bar")


class Unit(models.TextChoices):
    SHEET = "sheet", _("sheet")
    KG = "kg", _("kg")
    METRE = "m", _("metre")
    EACH = "ea", _("each")
