from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel
from apps.inventory.models import Material
from apps.machines.models import WorkCenter, WorkCenterType

from .choices import GrainDirection, JobStatus, OperationPhase, OperationStatus, PartFileKind, Priority


def minutes_field(verbose_name: str | Any, *, run_rate: bool = False) -> models.DecimalField[Decimal, Decimal]:
    """Durations are Decimal minutes; run rates per unit carry a third decimal (0.125 min)."""
    return models.DecimalField(
        verbose_name,
        max_digits=10 if run_rate else 9,
        decimal_places=3 if run_rate else 2,
        validators=[MinValueValidator(Decimal("0"))],
    )


class Customer(TimeStampedModel):
    """Who orders the work: a kitchen-equipment dealer, a contractor, an OEM."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("name",)
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class Part(TimeStampedModel):
    """A part number at one revision, with its material and its standard routing."""

    number = models.CharField(_("part number"), max_length=60)
    revision = models.CharField(_("revision"), max_length=10, default="A")
    description = models.CharField(_("description"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, null=True, blank=True, related_name="parts"
    )
    material = models.ForeignKey(
        Material, verbose_name=_("material"), on_delete=models.PROTECT, null=True, blank=True, related_name="parts"
    )
    thickness_mm = models.DecimalField(_("thickness (mm)"), max_digits=7, decimal_places=3, null=True, blank=True)
    grain_direction = models.CharField(
        _("grain direction"), max_length=8, choices=GrainDirection.choices, default=GrainDirection.NONE
    )
    material_cost = models.DecimalField(
        _("material cost per part"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Standard cost of the material in one finished part (its share of the sheet, hardware). "
            "Cost per part charges it for every part scrapped. Empty: not known."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("number", "revision")
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        constraints = [models.UniqueConstraint(fields=("number", "revision"), name="routings_part_number_revision")]

    def __str__(self) -> str:
        return f"{self.number} rev {self.revision}"


class PartFile(TimeStampedModel):
    """A drawing, DXF flat pattern or NC program of a part, stored under a server-made name."""

    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("kind"), max_length=10, choices=PartFileKind.choices)
    file = models.FileField(_("file"), upload_to="parts/%Y/%m/")
    original_name = models.CharField(_("original name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ("part", "kind", "-created_at")
        verbose_name = _("part file")
        verbose_name_plural = _("part files")

    def __str__(self) -> str:
        return f"{self.part} {self.get_kind_display()}: {self.original_name}"


class RoutingStep(models.Model):
    """One step of a part's standard routing: cut on a laser, bend on a brake, weld, polish…

    Steps run in sequence order unless `predecessors` says otherwise (e.g. two parallel
    sub-assemblies that both feed the weld step).
    """

    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.CASCADE, related_name="routing_steps")
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    operation_code = models.CharField(_("operation code"), max_length=30)
    description = models.CharField(_("description"), max_length=200, blank=True)
    work_center_type = models.ForeignKey(
        WorkCenterType, verbose_name=_("work center type"), on_delete=models.PROTECT, related_name="routing_steps"
    )
    preferred_work_center = models.ForeignKey(
        WorkCenter,
        verbose_name=_("preferred work center"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    setup_minutes = minutes_field(_("setup (min)"))
    run_minutes_per_unit = minutes_field(_("run per unit (min)"), run_rate=True)
    predecessors = models.ManyToManyField(
        "self",
        verbose_name=_("predecessors"),
        symmetrical=False,
        blank=True,
        related_name="successors",
        help_text=_("Empty: the previous step in sequence."),
    )

    class Meta:
        ordering = ("part", "sequence")
        verbose_name = _("routing step")
        verbose_name_plural = _("routing steps")
        constraints = [models.UniqueConstraint(fields=("part", "sequence"), name="routings_step_unique_sequence")]

    def __str__(self) -> str:
        return f"{self.part} {self.sequence} {self.operation_code}"


class Job(TimeStampedModel):
    """A work order: make `quantity` of a part for a customer by the due date."""

    number = models.CharField(_("job number"), max_length=40, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="jobs")
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="jobs")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    due_date = models.DateField(_("due date"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    sales_order = models.CharField(_("sales order"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=JobStatus.choices, default=JobStatus.DRAFT)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("status changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    hold_reason = models.CharField(_("hold reason"), max_length=200, blank=True)
    split_from = models.ForeignKey(
        "self", verbose_name=_("split from"), on_delete=models.SET_NULL, null=True, blank=True, related_name="splits"
    )
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("due_date", "priority", "number")
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [models.Index(fields=("status", "due_date"))]
        permissions = [
            ("release_job", _("Can release a job to the shop floor")),
            ("hold_job", _("Can put a job on hold and resume it")),
            ("cancel_job", _("Can cancel a job")),
            ("split_job", _("Can split a job")),
            ("import_master_data", _("Can import and export master data and jobs")),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="routings_job_quantity_pos")]

    def __str__(self) -> str:
        return self.number


class Operation(TimeStampedModel):
    """A job's routing step: copied from the part's routing at release, then editable.

    Total minutes = setup + run per unit × quantity (on a machine of efficiency 1.0).
    """

    job = models.ForeignKey(Job, verbose_name=_("job"), on_delete=models.CASCADE, related_name="operations")
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    operation_code = models.CharField(_("operation code"), max_length=30)
    description = models.CharField(_("description"), max_length=200, blank=True)
    work_center_type = models.ForeignKey(
        WorkCenterType, verbose_name=_("work center type"), on_delete=models.PROTECT, related_name="operations"
    )
    preferred_work_center = models.ForeignKey(
        WorkCenter,
        verbose_name=_("preferred work center"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    setup_minutes = minutes_field(_("setup (min)"))
    run_minutes_per_unit = minutes_field(_("run per unit (min)"), run_rate=True)
    predecessors = models.ManyToManyField(
        "self", verbose_name=_("predecessors"), symmetrical=False, blank=True, related_name="successors"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=OperationStatus.choices, default=OperationStatus.PENDING
    )
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    # What the shop floor reports, kept here so that planning (which sits below the shop floor)
    # can freeze a running operation on its real machine and re-estimate the work it has left.
    work_center = models.ForeignKey(
        WorkCenter,
        verbose_name=_("runs on"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="operations_run",
        help_text=_("The machine it was started on."),
    )
    phase = models.CharField(_("phase"), max_length=8, choices=OperationPhase.choices, blank=True)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    quantity_good = models.PositiveIntegerField(_("good"), default=0)
    quantity_scrap = models.PositiveIntegerField(_("scrap"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ("job", "sequence")
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        constraints = [
            models.UniqueConstraint(fields=("job", "sequence"), name="routings_operation_unique_sequence"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="routings_operation_quantity_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.job.number}/{self.sequence} {self.operation_code}"

    @property
    def total_minutes(self) -> Decimal:
        return self.setup_minutes + self.run_minutes_per_unit * self.quantity

    @property
    def remaining_minutes(self) -> Decimal:
        """Work left by what the floor reported: setup unless it is done, and the run time of the
        parts not yet good (scrap is made again)."""
        setup = Decimal(0) if self.phase == OperationPhase.RUN else self.setup_minutes
        return setup + self.run_minutes_per_unit * max(0, self.quantity - self.quantity_good)
