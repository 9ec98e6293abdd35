from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RELEASED = "released", _("Released")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETE = "complete", _("Complete")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_JOB_STATUSES = (JobStatus.DRAFT, JobStatus.RELEASED, JobStatus.IN_PROGRESS, JobStatus.ON_HOLD)


class Priority(models.IntegerChoices):
    RUSH = 1, _("1 rush")
    HIGH = 2, _("2 high")
    NORMAL = 3, _("3 normal")
    LOW = 4, _("4 low")


class OperationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETE = "complete", _("Complete")
    CANCELLED = "cancelled", _("Cancelled")


class OperationPhase(models.TextChoices):
    SETUP = "setup", _("Setup")
    RUN = "run", _("Run")


class GrainDirection(models.TextChoices):
    NONE = "none", _("No grain")
    ALONG_LENGTH = "length", _("Along the length")
    ALONG_WIDTH = "width", _("Along the width")


class PartFileKind(models.TextChoices):
    DRAWING = "drawing", _("Drawing (PDF)")
    DXF = "dxf", _("DXF flat pattern")
    NC_PROGRAM = "nc", _("NC program")
