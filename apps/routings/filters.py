"""FilterSets of routings, shared by pages, REST and GraphQL."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from apps.inventory.models import Material
from apps.machines.models import Department, WorkCenter, WorkCenterType

from .choices import JobStatus, OperationStatus, PartFileKind, Priority
from .models import Customer, Job, Operation, Part, PartFile, RoutingStep
from .selectors import JobRisk, LateRisk, late_risk_of


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")

    class Meta:
        model = Customer
        fields = ("code", "is_active")

    def search(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class PartFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    customer = django_filters.ModelChoiceFilter(label=_("Customer"), queryset=Customer.objects.all())
    material = django_filters.ModelChoiceFilter(label=_("Material"), queryset=Material.objects.all())
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=Department.objects.all(), method="in_department"
    )

    class Meta:
        model = Part
        fields = ("number", "revision", "customer", "material", "is_active")

    def search(self, queryset: QuerySet[Part], name: str, value: str) -> QuerySet[Part]:
        return queryset.filter(Q(number__icontains=value) | Q(description__icontains=value))

    def in_department(self, queryset: QuerySet[Part], name: str, value: Department) -> QuerySet[Part]:
        steps = RoutingStep.objects.filter(part=OuterRef("pk"), work_center_type__department=value)
        return queryset.filter(Exists(steps))


class PartFileFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PartFileKind.choices)

    class Meta:
        model = PartFile
        fields = ("part", "kind")


class RoutingStepFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        field_name="work_center_type__department", queryset=Department.objects.all()
    )

    class Meta:
        model = RoutingStep
        fields = ("part", "operation_code", "work_center_type", "department")


class JobFilter(django_filters.FilterSet):
    """Jobs by status, customer, department, due window and late risk (see apps.routings.selectors).

    The late-risk filter runs last, on the jobs the other filters kept, because it is computed.
    """

    q = django_filters.CharFilter(label=_("Job or sales order"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=JobStatus.choices)
    customer = django_filters.ModelChoiceFilter(label=_("Customer"), queryset=Customer.objects.all())
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=Department.objects.all(), method="in_department"
    )
    due_from = django_filters.DateFilter(
        label=_("Due from"), field_name="due_date", lookup_expr="gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    due_to = django_filters.DateFilter(
        label=_("Due to"), field_name="due_date", lookup_expr="lte", widget=forms.DateInput(attrs={"type": "date"})
    )
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    late_risk = django_filters.ChoiceFilter(label=_("Late risk"), choices=LateRisk.choices, method="with_late_risk")
    late_risks: dict[int, JobRisk] | None = None

    class Meta:
        model = Job
        fields = ("number", "status", "customer", "part", "priority", "sales_order")

    def filter_queryset(self, queryset: QuerySet[Job]) -> QuerySet[Job]:
        computed = {"late_risk"}
        for name, value in self.form.cleaned_data.items():
            if name not in computed:
                queryset = self.filters[name].filter(queryset, value)
        for name in computed:
            queryset = self.filters[name].filter(queryset, self.form.cleaned_data.get(name))
        return queryset

    def search(self, queryset: QuerySet[Job], name: str, value: str) -> QuerySet[Job]:
        return queryset.filter(Q(number__icontains=value) | Q(sales_order__icontains=value))

    def in_department(self, queryset: QuerySet[Job], name: str, value: Department) -> QuerySet[Job]:
        """Jobs with an operation in the department, or (not yet released) a routing step there."""
        operations = Operation.objects.filter(job=OuterRef("pk"))
        steps = RoutingStep.objects.filter(part=OuterRef("part_id"), work_center_type__department=value)
        return queryset.filter(
            Exists(operations.filter(work_center_type__department=value)) | (~Exists(operations) & Exists(steps))
        )

    def with_late_risk(self, queryset: QuerySet[Job], name: str, value: Any) -> QuerySet[Job]:
        # Kept so that a page showing the result does not work the risks out a second time.
        self.late_risks = late_risk_of(queryset)
        return queryset.filter(pk__in=[pk for pk, found in self.late_risks.items() if found.risk == value])


class OperationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OperationStatus.choices)
    work_center_type = django_filters.ModelChoiceFilter(queryset=WorkCenterType.objects.all())
    preferred_work_center = django_filters.ModelChoiceFilter(queryset=WorkCenter.objects.all())
    department = django_filters.ModelChoiceFilter(
        field_name="work_center_type__department", queryset=Department.objects.all()
    )
    job_status = django_filters.ChoiceFilter(field_name="job__status", choices=JobStatus.choices)

    class Meta:
        model = Operation
        fields = ("job", "status", "operation_code", "work_center_type", "preferred_work_center")
