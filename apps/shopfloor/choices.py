from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    START_SETUP = "start_setup", _("Setup started")
    START_RUN = "start_run", _("Run started")
    PAUSE = "pause", _("Paused")
    RESUME = "resume", _("Resumed")
    REPORT = "report", _("Quantities reported")
    COMPLETE = "complete", _("Completed")
    JOIN = "join", _("Joined")
    LEAVE = "leave", _("Left")


class IssueKind(models.TextChoices):
    QUALITY = "quality", _("Quality issue")
    MACHINE = "machine", _("Machine problem")
    MATERIAL = "material", _("Material shortage")
    SAFETY = "safety", _("Safety")


class IssueStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")
