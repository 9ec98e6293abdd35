from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduleStatus(models.TextChoices):
    PLANNING = "planning", _("Planning")
    READY = "ready", _("Ready for review")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    FAILED = "failed", _("Failed")


class Objective(models.TextChoices):
    LEXICOGRAPHIC = "lexicographic", _("Tardiness, then makespan, then setups")
    TARDINESS = "tardiness", _("Weighted tardiness")
    MAKESPAN = "makespan", _("Makespan")
    SETUP = "setup", _("Total setup time")


class DispatchRule(models.TextChoices):
    EDD = "EDD", _("Earliest due date")
    SPT = "SPT", _("Shortest processing time")
    CR = "CR", _("Critical ratio")
    SLACK = "SLACK", _("Least slack")
    FIFO = "FIFO", _("First in, first out")
    MWKR = "MWKR", _("Most work remaining")
