from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ExceptionKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    MAINTENANCE = "maintenance", _("Planned maintenance")
    SHUTDOWN = "shutdown", _("Shutdown")
    OVERTIME = "overtime", _("Overtime")


class AmendmentCause(models.TextChoices):
    """Why a machine's recorded past changed after the day was over."""

    MACHINE_DATA = "machine_data", _("Machine data for an earlier day")
    REASON_GIVEN = "reason_given", _("Downtime reason given later")
    PRODUCTION_REPORTED = "production_reported", _("Production reported for an earlier day")
    HISTORY_REPLACED = "history_replaced", _("History replaced")
