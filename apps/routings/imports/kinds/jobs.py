"""Open jobs (work orders): new ones become draft jobs a planner then releases.

A job number already in the database updates that job while it is a draft; a released, started,
held, finished or cancelled job is left alone when its row says the same, and refused when the
row would change it (the floor may be working from it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ...choices import OPEN_JOB_STATUSES, JobStatus, Priority
from ...models import Customer, Job, Part
from ...services import create_job
from ..cells import CellError, IsoDate, Parser, Text, WholeNumber
from .base import Column, Counts, Kind, Problems, Row, batches, duplicate_keys, lookup


class PriorityParser(Parser):
    """1–4, or rush, high, normal, low."""

    def __call__(self, value: Any) -> int:
        text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().lower()
        for member in Priority:
            if text in (str(member.value), member.name.lower(), str(member.label).lower()):
                return int(member.value)
        raise CellError(_("Enter 1 (rush), 2 (high), 3 (normal) or 4 (low)."))


@dataclass
class JobPlan:
    row: int
    number: str
    customer: Customer
    part: Part
    quantity: int
    due_date: date
    priority: int
    sales_order: str
    existing: Job | None
    changed: bool


class JobKind(Kind):
    slug = "jobs"
    label = gettext_lazy("open jobs")
    columns = (
        Column("job_number", Text(), gettext_lazy("Job (work order) number."), required=True, example="J-24017"),
        Column("customer", Text(), gettext_lazy("Code of an existing customer."), required=True, example="HOBART"),
        Column(
            "part_number",
            Text(),
            gettext_lazy("Number of an existing part."),
            required=True,
            example="DR-3070-L",
            width=16,
        ),
        Column(
            "revision",
            Text(),
            gettext_lazy("Part revision; blank = the part's only revision."),
            example="B",
            width=10,
        ),
        Column(
            "quantity",
            WholeNumber(1),
            gettext_lazy("Pieces to make, 1 or more."),
            required=True,
            example="25",
            width=10,
        ),
        Column(
            "due_date",
            IsoDate(),
            gettext_lazy("Due date, YYYY-MM-DD or an Excel date."),
            required=True,
            example="2025-03-14",
            width=12,
            number_format="yyyy-mm-dd",
        ),
        Column(
            "priority",
            PriorityParser(),
            gettext_lazy("1 rush, 2 high, 3 normal, 4 low; blank = 3."),
            example="3",
            width=10,
        ),
        Column("sales_order", Text(), gettext_lazy("Sales order reference."), example="SO-88120"),
    )

    def check(self, rows: list[Row], present: set[str], problems: Problems) -> list[JobPlan]:
        duplicate_keys(rows, lambda row: row.get("job_number"), "job_number", problems)
        existing = lookup(Job, "number", {row.get("job_number") for row in rows})
        customers = lookup(Customer, "code", {row.get("customer") for row in rows})
        parts: dict[str, list[Part]] = defaultdict(list)
        numbers = sorted({row.get("part_number") for row in rows} - {None})
        for batch in batches(numbers):
            for part in Part.objects.filter(number__in=batch).order_by("revision"):
                parts[part.number].append(part)
        plan = []
        for row in rows:
            item = self._job(row, present, existing, customers, parts, problems)
            if item is not None:
                plan.append(item)
        return plan

    def _job(
        self,
        row: Row,
        present: set[str],
        existing: dict[str, Job],
        customers: dict[str, Customer],
        parts: dict[str, list[Part]],
        problems: Problems,
    ) -> JobPlan | None:
        customer = customers.get(row.get("customer"))
        if row.has("customer") and customer is None:
            problems.add(
                row.number,
                "customer",
                _("Unknown customer “%(code)s”: import customers first or fix the code.")
                % {"code": row.get("customer")},
            )
        part = self._find_part(row, parts, problems)
        if row.failed or customer is None or part is None:
            return None
        job = existing.get(row.get("job_number"))
        item = JobPlan(
            row=row.number,
            number=row.get("job_number"),
            customer=customer,
            part=part,
            quantity=row.get("quantity"),
            due_date=row.get("due_date"),
            priority=row.get("priority", int(Priority.NORMAL))
            if "priority" in present or job is None
            else job.priority,
            sales_order=row.get("sales_order", "") if "sales_order" in present or job is None else job.sales_order,
            existing=job,
            changed=True,
        )
        if job is not None:
            item.changed = _state(job) != (
                customer.pk,
                part.pk,
                item.quantity,
                item.due_date,
                item.priority,
                item.sales_order,
            )
            if not item.changed:
                return item  # nothing to write, whatever state the job or its part is in now
            if job.status != JobStatus.DRAFT:
                problems.add(
                    row.number,
                    "job_number",
                    _("Job %(job)s is %(status)s; an import changes draft jobs only.")
                    % {"job": job.number, "status": job.get_status_display().lower()},
                )
                return None
        if not customer.is_active:
            problems.add(row.number, "customer", _("Customer %(code)s is inactive.") % {"code": customer.code})
        if not part.is_active:
            problems.add(row.number, "part_number", _("Part %(part)s is inactive.") % {"part": part})
        candidate = Job(
            number=item.number,
            quantity=item.quantity,
            due_date=item.due_date,
            priority=item.priority,
            sales_order=item.sales_order,
        )
        try:
            candidate.clean_fields(exclude=["customer", "part", "status_changed_by", "released_by", "split_from"])
        except ValidationError as error:
            headers = {"number": "job_number", "sales_order": "sales_order", "quantity": "quantity"}
            for field_name, messages in error.message_dict.items():
                for message in messages:
                    problems.add(row.number, headers.get(field_name, field_name), message)
            return None
        return item

    def _find_part(self, row: Row, parts: dict[str, list[Part]], problems: Problems) -> Part | None:
        number, revision = row.get("part_number"), row.get("revision")
        if number is None or "revision" in row.failed:
            return None
        revisions = parts.get(number, [])
        if revision is not None:
            match = next((part for part in revisions if part.revision == revision), None)
            if match is None:
                known = ", ".join(part.revision for part in revisions)
                message = (
                    _("Part %(number)s has no revision %(revision)s (it has %(known)s).")
                    if known
                    else _("Unknown part %(number)s rev %(revision)s: import parts first or fix the number.")
                )
                problems.add(
                    row.number,
                    "revision" if known else "part_number",
                    message % {"number": number, "revision": revision, "known": known},
                )
            return match
        if not revisions:
            problems.add(
                row.number,
                "part_number",
                _("Unknown part %(number)s: import parts first or fix the number.") % {"number": number},
            )
            return None
        active = [part for part in revisions if part.is_active] or revisions
        if len(active) > 1:
            problems.add(
                row.number,
                "revision",
                _("Part %(number)s has revisions %(known)s; say which.")
                % {"number": number, "known": ", ".join(part.revision for part in active)},
            )
            return None
        return active[0]

    def write(self, plan: list[JobPlan], actor: Any) -> dict[str, Counts]:
        counts = Counts()
        for item in plan:
            if item.existing is None:
                create_job(
                    actor=actor,
                    number=item.number,
                    customer=item.customer,
                    part=item.part,
                    quantity=item.quantity,
                    due_date=item.due_date,
                    priority=item.priority,
                    sales_order=item.sales_order,
                )
                counts.created += 1
            elif item.changed:
                # Checked as a draft above; locked and checked again so that a job released since
                # is not changed behind the floor's back.
                job = Job.objects.select_for_update().get(pk=item.existing.pk)
                if job.status != JobStatus.DRAFT:
                    raise ValidationError(
                        _("Job %(job)s was released while the file was imported; import the file again.")
                        % {"job": item.number}
                    )
                job.customer, job.part, job.quantity = item.customer, item.part, item.quantity
                job.due_date, job.priority, job.sales_order = item.due_date, item.priority, item.sales_order
                job._history_user = actor  # type: ignore[attr-defined]
                job.save()
                counts.updated += 1
            else:
                counts.unchanged += 1
        return {self.slug: counts}

    def export(self) -> Iterator[Sequence[Any]]:
        queryset = (
            Job.objects.filter(status__in=OPEN_JOB_STATUSES).select_related("customer", "part").order_by("number")
        )
        for job in queryset.iterator(chunk_size=2000):
            yield [
                job.number,
                job.customer.code,
                job.part.number,
                job.part.revision,
                job.quantity,
                job.due_date,
                job.priority,
                job.sales_order,
            ]


def _state(job: Job) -> tuple[Any, ...]:
    return (job.customer_id, job.part_id, job.quantity, job.due_date, job.priority, job.sales_order)
