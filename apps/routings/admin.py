from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from .choices import JobStatus
from .models import Customer, Job, Operation, Part, PartFile, RoutingStep
from .services import (
    CANCEL,
    HOLD,
    OPERATION_WORKFLOW_FIELDS,
    RELEASE,
    cancel_job,
    check_preferred_work_center,
    hold_job,
    release_job,
    resume_job,
    validate_routing_step,
)


def download_link(part_file: PartFile) -> str:
    if not part_file.pk:
        return "—"
    url = reverse("routings:part-file-download", args=[part_file.pk])
    return format_html('<a href="{}">{}</a>', url, part_file.original_name)


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "email", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "email")
    list_select_related = True
    readonly_fields = ("created_at", "updated_at")


class RoutingStepInline(admin.TabularInline[RoutingStep, Part]):
    model = RoutingStep
    extra = 0
    fields = (
        "sequence",
        "operation_code",
        "description",
        "work_center_type",
        "preferred_work_center",
        "setup_minutes",
        "run_minutes_per_unit",
    )
    autocomplete_fields = ("work_center_type", "preferred_work_center")
    # Predecessors are set on the step's own page, where they are checked for cycles.
    show_change_link = True


class PartFileInline(admin.TabularInline[PartFile, Part]):
    """Files arrive through the checked upload on the part page; here they are only listed."""

    model = PartFile
    extra = 0
    fields = ("kind", "download", "size_bytes", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields
    can_delete = True

    @admin.display(description=_("file"))
    def download(self, part_file: PartFile) -> str:
        return download_link(part_file)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Part)
class PartAdmin(SimpleHistoryAdmin):
    list_display = ("number", "revision", "description", "customer", "material", "thickness_mm", "is_active")
    list_filter = ("is_active", "grain_direction", "customer")
    search_fields = ("number", "description", "customer__name")
    list_select_related = ("customer", "material")
    autocomplete_fields = ("customer", "material")
    readonly_fields = ("created_at", "updated_at")
    inlines = (RoutingStepInline, PartFileInline)


class RoutingStepForm(forms.ModelForm[RoutingStep]):
    class Meta:
        model = RoutingStep
        fields = (
            "part",
            "sequence",
            "operation_code",
            "description",
            "work_center_type",
            "preferred_work_center",
            "setup_minutes",
            "run_minutes_per_unit",
            "predecessors",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        step = self.instance
        for name in ("part", "sequence", "work_center_type", "preferred_work_center"):
            if name in cleaned:
                setattr(step, name, cleaned[name])
        try:
            validate_routing_step(step, cleaned.get("predecessors") or [])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return cleaned


@admin.register(RoutingStep)
class RoutingStepAdmin(admin.ModelAdmin[RoutingStep]):
    form = RoutingStepForm
    list_display = (
        "part",
        "sequence",
        "operation_code",
        "work_center_type",
        "preferred_work_center",
        "setup_minutes",
        "run_minutes_per_unit",
    )
    list_filter = ("work_center_type__department", "work_center_type")
    search_fields = ("part__number", "operation_code", "description")
    list_select_related = ("part", "work_center_type", "preferred_work_center")
    autocomplete_fields = ("part", "work_center_type", "preferred_work_center", "predecessors")
    ordering = ("part", "sequence")


@admin.register(PartFile)
class PartFileAdmin(admin.ModelAdmin[PartFile]):
    list_display = ("original_name", "part", "kind", "size_bytes", "uploaded_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("original_name", "part__number", "sha256")
    list_select_related = ("part", "uploaded_by")
    autocomplete_fields = ("part", "uploaded_by")
    fields = ("part", "kind", "download", "original_name", "size_bytes", "content_type", "sha256", "uploaded_by")
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, part_file: PartFile) -> str:
        return download_link(part_file)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class OperationForm(forms.ModelForm[Operation]):
    class Meta:
        model = Operation
        fields = ("description", "preferred_work_center", "setup_minutes", "run_minutes_per_unit")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        work_center = cleaned.get("preferred_work_center")
        operation = self.instance
        if work_center is not None and operation.pk and "preferred_work_center" in self.changed_data:
            try:
                check_preferred_work_center(work_center, operation.work_center_type_id, str(operation.work_center_type))
            except ValidationError as exc:
                raise ValidationError(exc.messages) from exc
        return cleaned


class OperationInline(admin.TabularInline[Operation, Job]):
    """A job's operations: copied at release, so none are added or removed here."""

    model = Operation
    form = OperationForm
    extra = 0
    fields = (
        "sequence",
        "operation_code",
        "work_center_type",
        "preferred_work_center",
        "quantity",
        "setup_minutes",
        "run_minutes_per_unit",
        "status",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    )
    readonly_fields = (
        "sequence",
        "operation_code",
        "work_center_type",
        "quantity",
        "status",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    )
    autocomplete_fields = ("preferred_work_center",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Operation]:
        return super().get_queryset(request).select_related("work_center_type", "preferred_work_center", "job")


class JobActionForm(ActionForm):
    reason = forms.CharField(label=_("Reason (hold, cancel)"), required=False, max_length=200)


JOB_WORKFLOW_FIELDS = (
    "status",
    "status_changed_at",
    "status_changed_by",
    "released_at",
    "released_by",
    "hold_reason",
    "split_from",
    "created_at",
    "updated_at",
)


@admin.register(Job)
class JobAdmin(SimpleHistoryAdmin):
    list_display = ("number", "customer", "part", "quantity", "due_date", "priority", "status", "sales_order")
    list_filter = ("status", "priority", "customer")
    search_fields = ("number", "sales_order", "customer__name", "part__number")
    list_select_related = ("customer", "part")
    autocomplete_fields = ("customer", "part")
    date_hierarchy = "due_date"
    inlines = (OperationInline,)
    action_form = JobActionForm
    actions = ("release", "hold", "resume", "cancel")
    fieldsets = (
        (None, {"fields": ("number", "customer", "part", "quantity", "due_date", "priority", "sales_order", "notes")}),
        (_("Workflow (changed by the actions)"), {"fields": JOB_WORKFLOW_FIELDS}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> Any:
        # Once released, the operations were made from the part and quantity: split or cancel instead.
        if obj is not None and obj.status != JobStatus.DRAFT:
            return (*JOB_WORKFLOW_FIELDS, "number", "customer", "part", "quantity")
        return JOB_WORKFLOW_FIELDS

    def has_release_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RELEASE))

    def has_hold_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(HOLD))

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(CANCEL))

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Job], verb: str | Promise, change: Callable[[Job], Any]
    ) -> None:
        """Run a service on each selected job; report what worked and each refusal by job."""
        done = 0
        for job in queryset.order_by("number"):
            try:
                change(job)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{job.number}: {text}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(n)d job %(verb)s.", "%(n)d jobs %(verb)s.", done) % {"n": done, "verb": verb},
                messages.SUCCESS,
            )

    def _reason(self, request: HttpRequest) -> str:
        return str(request.POST.get("reason", "")).strip()

    @admin.action(description=_("Release to the shop floor"), permissions=["release"])
    def release(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._each(request, queryset, _("released"), lambda job: release_job(actor=request.user, job_id=job.pk))

    @admin.action(description=_("Put on hold (give a reason)"), permissions=["hold"])
    def hold(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        reason = self._reason(request)
        self._each(
            request, queryset, _("put on hold"), lambda job: hold_job(actor=request.user, job_id=job.pk, reason=reason)
        )

    @admin.action(description=_("Resume from hold"), permissions=["hold"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._each(request, queryset, _("resumed"), lambda job: resume_job(actor=request.user, job_id=job.pk))

    @admin.action(description=_("Cancel (reason optional)"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        reason = self._reason(request)
        self._each(
            request, queryset, _("cancelled"), lambda job: cancel_job(actor=request.user, job_id=job.pk, reason=reason)
        )


@admin.register(Operation)
class OperationAdmin(SimpleHistoryAdmin):
    form = OperationForm
    list_display = (
        "job",
        "sequence",
        "operation_code",
        "work_center_type",
        "preferred_work_center",
        "quantity",
        "status",
        "planned_start",
        "actual_end",
    )
    list_filter = ("status", "work_center_type__department", "work_center_type")
    search_fields = ("job__number", "operation_code", "description")
    list_select_related = ("job", "work_center_type", "preferred_work_center")
    autocomplete_fields = ("job", "work_center_type", "preferred_work_center")
    readonly_fields = OPERATION_WORKFLOW_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
