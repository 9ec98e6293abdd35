"""Parts with their standard routings: one row per routing step.

The part's own columns (description, material, …) may be filled on the part's first row only or
repeated on each row; repeated values must agree. When the file has step columns, a part in the
file gets exactly the file's steps (steps no longer listed are removed); a file without step
columns changes parts and leaves their routings alone. A part whose only row has blank step
cells ends up with no routing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.inventory.models import Material
from apps.machines.models import WorkCenter, WorkCenterType

from ...choices import GrainDirection
from ...models import Customer, Part, RoutingStep
from ...precedence import default_predecessors, find_cycle, unknown_predecessors
from ..cells import Choice, DecimalNumber, SequenceList, Text, WholeNumber, YesNo
from .base import Column, Counts, Kind, Problems, Row, batches, empty_value, lookup

PART_COLUMNS = {  # header → Part field, for the part's own values
    "description": "description",
    "material": "material",
    "thickness_mm": "thickness_mm",
    "grain_direction": "grain_direction",
    "customer": "customer",
    "active": "is_active",
}
STEP_COLUMNS = (
    "sequence",
    "operation_code",
    "step_description",
    "work_center_type",
    "preferred_work_center",
    "setup_minutes",
    "run_minutes_per_unit",
    "predecessors",
)
STEP_FIELDS = {  # header → RoutingStep field, for the field checks of the model
    "sequence": "sequence",
    "operation_code": "operation_code",
    "step_description": "description",
    "setup_minutes": "setup_minutes",
    "run_minutes_per_unit": "run_minutes_per_unit",
}


@dataclass
class StepPlan:
    row: int
    sequence: int
    operation_code: str
    description: str
    work_center_type: WorkCenterType
    preferred_work_center: WorkCenter | None
    setup_minutes: Decimal
    run_minutes_per_unit: Decimal
    predecessors: list[int]

    def signature(self) -> tuple[Any, ...]:
        return (
            self.sequence,
            self.operation_code,
            self.description,
            self.work_center_type.pk,
            self.preferred_work_center.pk if self.preferred_work_center else None,
            self.setup_minutes,
            self.run_minutes_per_unit,
            tuple(self.predecessors),
        )


@dataclass
class PartPlan:
    number: str
    revision: str
    first_row: int
    values: dict[str, tuple[int, Any]] = field(default_factory=dict)  # header → (row, value)
    steps: list[StepPlan] = field(default_factory=list)
    step_rows: list[Row] = field(default_factory=list)
    part_only_rows: list[int] = field(default_factory=list)
    instance: Part | None = None


@dataclass
class PartsPlan:
    parts: list[PartPlan]
    with_steps: bool


class PartKind(Kind):
    slug = "parts"
    label = gettext_lazy("parts with routings")
    columns = (
        Column("part_number", Text(), gettext_lazy("Part number."), required=True, example="DR-3070-L", width=16),
        Column("revision", Text(), gettext_lazy("Revision; blank = A."), example="B", width=10),
        Column(
            "description",
            Text(),
            gettext_lazy("What the part is; on the part's first row at least."),
            example="Door panel 30x70 left",
            width=28,
        ),
        Column("material", Text(), gettext_lazy("Code of an existing material."), example="SS304-16-4896", width=16),
        Column(
            "thickness_mm",
            DecimalNumber(positive=True),
            gettext_lazy("Thickness in mm."),
            example="1.519",
            number_format="0.000",
        ),
        Column(
            "grain_direction",
            Choice(GrainDirection),
            gettext_lazy("none, length or width; blank = none."),
            example="length",
            width=16,
        ),
        Column("customer", Text(), gettext_lazy("Code of an existing customer, for customer parts."), example="HOBART"),
        Column("active", YesNo(), gettext_lazy("yes or no; blank = yes."), example="yes"),
        Column(
            "sequence",
            WholeNumber(1, 32767),
            gettext_lazy("Step number within the routing (10, 20, 30…); on every step row."),
            example="10",
            width=10,
        ),
        Column(
            "operation_code",
            Text(),
            gettext_lazy("Operation code of the step; on every step row."),
            example="LASER",
            width=16,
        ),
        Column("step_description", Text(), gettext_lazy("What the step does."), example="Cut blank", width=24),
        Column(
            "work_center_type",
            Text(),
            gettext_lazy("Code of an existing work center type; on every step row."),
            example="fiber-3kw",
            width=18,
        ),
        Column(
            "preferred_work_center",
            Text(),
            gettext_lazy("Code of an existing work center of that type, or blank."),
            example="laser-1",
            width=20,
        ),
        Column(
            "setup_minutes",
            DecimalNumber(Decimal("0")),
            gettext_lazy("Setup minutes; blank = 0."),
            example="15",
            number_format="0.00",
        ),
        Column(
            "run_minutes_per_unit",
            DecimalNumber(Decimal("0")),
            gettext_lazy("Run minutes per piece; blank = 0."),
            example="2.5",
            width=20,
            number_format="0.000",
        ),
        Column(
            "predecessors",
            SequenceList(),
            gettext_lazy("Steps that must finish first, e.g. 10;20; blank = the previous step."),
            width=14,
        ),
    )

    def check(self, rows: list[Row], present: set[str], problems: Problems) -> PartsPlan:
        with_steps = bool(present & set(STEP_COLUMNS))
        parts = self._group(rows, problems)
        existing = _existing_parts({(p.number, p.revision) for p in parts.values()})
        references = {
            "material": lookup(Material, "code", _values(rows, "material")),
            "customer": lookup(Customer, "code", _values(rows, "customer")),
            "work_center_type": lookup(WorkCenterType, "code", _values(rows, "work_center_type")),
            "preferred_work_center": lookup(WorkCenter, "code", _values(rows, "preferred_work_center")),
        }
        for plan in parts.values():
            part = existing.get((plan.number, plan.revision))
            plan.instance = self._part(plan, part, present, references, problems)
            if with_steps:
                self._steps(plan, references, problems)
        return PartsPlan(parts=list(parts.values()), with_steps=with_steps)

    def _group(self, rows: list[Row], problems: Problems) -> dict[tuple[str, str], PartPlan]:
        parts: dict[tuple[str, str], PartPlan] = {}
        for row in rows:
            if not row.has("part_number") or "revision" in row.failed:
                continue
            number, revision = row.get("part_number"), row.get("revision") or "A"
            plan = parts.setdefault((number, revision), PartPlan(number, revision, first_row=row.number))
            for header in PART_COLUMNS:
                value = row.get(header)
                if value is None:
                    continue
                if header in plan.values and plan.values[header][1] != value:
                    problems.add(
                        row.number,
                        header,
                        _("Differs from row %(row)s of the same part.") % {"row": plan.values[header][0]},
                    )
                plan.values.setdefault(header, (row.number, value))
            if any(row.get(header) is not None or header in row.failed for header in STEP_COLUMNS):
                plan.step_rows.append(row)
            else:
                plan.part_only_rows.append(row.number)
        return parts

    def _part(
        self,
        plan: PartPlan,
        part: Part | None,
        present: set[str],
        references: dict[str, dict[Any, Any]],
        problems: Problems,
    ) -> Part:
        """The part as it will be saved; columns absent from the file keep their current values."""
        part = part or Part(number=plan.number, revision=plan.revision)
        unknown = {
            "material": _("Unknown material “%(code)s”: import materials first or fix the code."),
            "customer": _("Unknown customer “%(code)s”: import customers first or fix the code."),
        }
        reported = set()
        for header, field_name in PART_COLUMNS.items():
            if header not in present:
                continue
            row_number, value = plan.values.get(header, (plan.first_row, None))
            if header in unknown:
                target = references[header].get(value) if value is not None else None
                if value is not None and target is None:
                    problems.add(row_number, header, unknown[header] % {"code": value})
                    continue
                setattr(part, field_name, target)
                continue
            if value is None:
                if header == "description" and not part.description:
                    problems.add(plan.first_row, header, _("Required on the part's first row."))
                    reported.add(header)
                    continue
                value = part.description if header == "description" else empty_value(Part._meta.get_field(field_name))
            setattr(part, field_name, value)
        try:
            part.clean_fields(exclude=["material", "customer"])
        except ValidationError as error:
            by_field = {"number": "part_number", "revision": "revision", **{v: k for k, v in PART_COLUMNS.items()}}
            for field_name, messages in error.message_dict.items():
                header = by_field.get(field_name, "")
                if header in reported:
                    continue
                row_number = plan.values.get(header, (plan.first_row, None))[0]
                for message in messages:
                    problems.add(row_number, header, message)
        return part

    def _steps(self, plan: PartPlan, references: dict[str, dict[Any, Any]], problems: Problems) -> None:
        if plan.step_rows and plan.part_only_rows:
            for row_number in plan.part_only_rows:
                problems.add(row_number, "sequence", _("Required: the other rows of this part are routing steps."))
        rows_by_sequence: dict[int, Row] = {}
        for row in plan.step_rows:
            sequence = row.get("sequence")
            if sequence in rows_by_sequence:
                problems.add(
                    row.number,
                    "sequence",
                    _("Row %(row)s already has step %(seq)s of this part.")
                    % {"row": rows_by_sequence[sequence].number, "seq": sequence},
                )
                continue
            if sequence is not None:
                rows_by_sequence[sequence] = row
            step = self._step(row, references, problems)
            if step is not None:
                plan.steps.append(step)
        if len(plan.steps) != len(plan.step_rows):
            return  # the graph of a routing with an unreadable step would report false cycles
        explicit = {step.sequence: step.predecessors for step in plan.steps}
        unknown = unknown_predecessors(default_predecessors(list(explicit), explicit))
        for sequence, missing in unknown.items():
            problems.add(
                rows_by_sequence[sequence].number,
                "predecessors",
                _("No step %(missing)s in this part's routing.") % {"missing": ", ".join(map(str, missing))},
            )
        if unknown:
            return
        cycle = find_cycle(default_predecessors(list(explicit), explicit))
        if cycle:
            problems.add(
                rows_by_sequence[cycle[0]].number,
                "predecessors",
                _("The steps form a precedence cycle: %(cycle)s.") % {"cycle": " → ".join(map(str, cycle))},
            )

    def _step(self, row: Row, references: dict[str, dict[Any, Any]], problems: Problems) -> StepPlan | None:
        ok = True
        for header in ("sequence", "operation_code", "work_center_type"):
            if row.get(header) is None and header not in row.failed:
                problems.add(row.number, header, _("Required on a routing step row."))
                ok = False
        step_type = references["work_center_type"].get(row.get("work_center_type"))
        if row.get("work_center_type") is not None and step_type is None:
            problems.add(
                row.number,
                "work_center_type",
                _("Unknown work center type “%(code)s”.") % {"code": row.get("work_center_type")},
            )
            ok = False
        preferred = references["preferred_work_center"].get(row.get("preferred_work_center"))
        if row.get("preferred_work_center") is not None:
            if preferred is None:
                problems.add(
                    row.number,
                    "preferred_work_center",
                    _("Unknown work center “%(code)s”.") % {"code": row.get("preferred_work_center")},
                )
                ok = False
            elif step_type is not None and preferred.work_center_type_id != step_type.pk:
                problems.add(
                    row.number,
                    "preferred_work_center",
                    _("Work center %(code)s is a %(type)s, not a %(wanted)s.")
                    % {"code": preferred.code, "type": preferred.work_center_type, "wanted": step_type},
                )
                ok = False
        step = RoutingStep(
            sequence=row.get("sequence"),
            operation_code=row.get("operation_code", ""),
            description=row.get("step_description", ""),
            setup_minutes=row.get("setup_minutes", Decimal("0")),
            run_minutes_per_unit=row.get("run_minutes_per_unit", Decimal("0")),
        )
        try:
            step.clean_fields(exclude=["part", "work_center_type", "preferred_work_center", "predecessors"])
        except ValidationError as error:
            by_field = {v: k for k, v in STEP_FIELDS.items()}
            for field_name, messages in error.message_dict.items():
                header = by_field.get(field_name, "")
                if header in row.failed or row.get(header) is None:
                    continue
                ok = False
                for message in messages:
                    problems.add(row.number, header, message)
        if not ok or row.failed or step_type is None:
            return None
        return StepPlan(
            row=row.number,
            sequence=step.sequence,
            operation_code=step.operation_code,
            description=step.description,
            work_center_type=step_type,
            preferred_work_center=preferred,
            setup_minutes=step.setup_minutes,
            run_minutes_per_unit=step.run_minutes_per_unit,
            predecessors=row.get("predecessors", []),
        )

    def write(self, plan: PartsPlan, actor: Any) -> dict[str, Counts]:
        parts, steps = Counts(), Counts()
        existing = _existing_parts({(p.number, p.revision) for p in plan.parts})
        for item in plan.parts:
            part = item.instance
            assert part is not None  # set by check()
            before = existing.get((item.number, item.revision))
            part_changed = before is None or _part_state(before) != _part_state(part)
            routing_changed = plan.with_steps and (
                before is None or _routing_state(before) != sorted(step.signature() for step in item.steps)
            )
            if part_changed:
                part._history_user = actor  # type: ignore[attr-defined]
                part.save()
            if routing_changed:
                _write_routing(part, item.steps, steps)
            elif plan.with_steps:
                steps.unchanged += len(item.steps)
            if before is None:
                parts.created += 1
            elif part_changed or routing_changed:
                parts.updated += 1
            else:
                parts.unchanged += 1
        counts = {self.slug: parts}
        if plan.with_steps:
            counts["routing_steps"] = steps
        return counts

    def export(self) -> Iterator[Sequence[Any]]:
        steps = RoutingStep.objects.select_related("work_center_type", "preferred_work_center").prefetch_related(
            "predecessors"
        )
        queryset = (
            Part.objects.select_related("material", "customer")
            .prefetch_related(Prefetch("routing_steps", queryset=steps.order_by("sequence")))
            .order_by("number", "revision")
        )
        for part in queryset.iterator(chunk_size=500):
            head = [
                part.number,
                part.revision,
                part.description,
                part.material.code if part.material else None,
                part.thickness_mm,
                part.grain_direction,
                part.customer.code if part.customer else None,
                part.is_active,
            ]
            routing = list(part.routing_steps.all())
            if not routing:
                yield [*head, *([None] * len(STEP_COLUMNS))]
            for step in routing:
                yield [
                    *head,
                    step.sequence,
                    step.operation_code,
                    step.description,
                    step.work_center_type.code,
                    step.preferred_work_center.code if step.preferred_work_center else None,
                    step.setup_minutes,
                    step.run_minutes_per_unit,
                    ";".join(str(p.sequence) for p in sorted(step.predecessors.all(), key=lambda p: p.sequence)),
                ]


def _values(rows: list[Row], header: str) -> set[Any]:
    return {row.get(header) for row in rows if row.get(header) is not None}


def _existing_parts(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Part]:
    numbers = sorted({number for number, _revision in keys})
    found = {}
    for batch in batches(numbers):
        for part in Part.objects.filter(number__in=batch).prefetch_related("routing_steps__predecessors"):
            if (part.number, part.revision) in keys:
                found[(part.number, part.revision)] = part
    return found


def _part_state(part: Part) -> tuple[Any, ...]:
    return (
        part.description,
        part.material_id,
        part.thickness_mm,
        part.grain_direction,
        part.customer_id,
        part.is_active,
    )


def _routing_state(part: Part) -> list[tuple[Any, ...]]:
    return sorted(
        (
            step.sequence,
            step.operation_code,
            step.description,
            step.work_center_type_id,
            step.preferred_work_center_id,
            step.setup_minutes,
            step.run_minutes_per_unit,
            tuple(sorted(p.sequence for p in step.predecessors.all())),
        )
        for step in part.routing_steps.all()
    )


def _write_routing(part: Part, planned: list[StepPlan], counts: Counts) -> None:
    """The part's routing becomes exactly `planned`: steps updated in place by sequence."""
    current = {step.sequence: step for step in RoutingStep.objects.filter(part=part)}
    wanted = {step.sequence for step in planned}
    removed = [step.pk for sequence, step in current.items() if sequence not in wanted]
    RoutingStep.objects.filter(pk__in=removed).delete()
    counts.deleted += len(removed)
    saved: dict[int, RoutingStep] = {}
    for item in planned:
        step = current.get(item.sequence) or RoutingStep(part=part, sequence=item.sequence)
        state = (
            step.operation_code,
            step.description,
            step.work_center_type_id if step.pk else None,
            step.preferred_work_center_id,
            step.setup_minutes,
            step.run_minutes_per_unit,
        )
        step.operation_code = item.operation_code
        step.description = item.description
        step.work_center_type = item.work_center_type
        step.preferred_work_center = item.preferred_work_center
        step.setup_minutes = item.setup_minutes
        step.run_minutes_per_unit = item.run_minutes_per_unit
        new_state = (
            step.operation_code,
            step.description,
            step.work_center_type_id,
            step.preferred_work_center_id,
            step.setup_minutes,
            step.run_minutes_per_unit,
        )
        if step.pk is None:
            counts.created += 1
        elif state != new_state or sorted(p.sequence for p in step.predecessors.all()) != item.predecessors:
            counts.updated += 1
        else:
            counts.unchanged += 1
        step.save()
        saved[item.sequence] = step
    through = RoutingStep.predecessors.through
    through.objects.filter(from_routingstep__part=part).delete()
    through.objects.bulk_create(
        [
            through(from_routingstep_id=saved[item.sequence].pk, to_routingstep_id=saved[before].pk)
            for item in planned
            for before in item.predecessors
        ]
    )
