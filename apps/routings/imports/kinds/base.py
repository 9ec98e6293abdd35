"""What every kind of import shares: its columns, the problems found, and upsert of simple tables.

A kind checks the whole file first and returns a plan; only a plan without problems is written,
in one transaction. Rows are upserted by their natural key (a code, a number): a row whose key
exists updates that row, any other creates one.
"""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from ..cells import CellError, Parser, apply, is_blank
from ..reader import Table, column_letter, normalize_header

MAX_LISTED_PROBLEMS = 200


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its header (lower case, underscores) and how to read it."""

    header: str
    parse: Parser
    help: str | Promise
    required: bool = False
    example: str = ""
    width: int = 14
    number_format: str = ""


@dataclass(frozen=True)
class Problem:
    """A reason a row cannot be imported: the row as Excel numbers it, the column, why."""

    row: int
    column: str
    letter: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "letter": self.letter, "message": self.message}

    def __str__(self) -> str:
        where = _("row %(row)s") % {"row": self.row}
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class Problems:
    """Every problem in a file, counted; the MAX_LISTED_PROBLEMS first by row and column kept to
    show (the checks find them out of order: cells first, then references across rows)."""

    letters: dict[str, str] = field(default_factory=dict)
    total: int = 0
    _kept: list[tuple[tuple[int, int, str], int, Problem]] = field(default_factory=list)

    def add(self, row: int, column: str, message: str, *, letter: str | None = None) -> None:
        self.total += 1
        where = self.letters.get(column, "") if letter is None else letter
        # A max-heap on position (negated) keeps the earliest problems in bounded memory.
        position = (-row, -len(where), "".join(chr(255 - ord(c)) for c in where))
        entry = (position, -self.total, Problem(row, column, where, message))
        if len(self._kept) < MAX_LISTED_PROBLEMS:
            heapq.heappush(self._kept, entry)
        elif position > self._kept[0][0]:
            heapq.heapreplace(self._kept, entry)

    @property
    def listed(self) -> list[Problem]:
        return [problem for _position, _order, problem in sorted(self._kept, reverse=True)]

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass
class Row:
    """One data row: the values of the columns present in the file that could be read (None for a
    blank cell); `failed` names the cells already reported as unreadable."""

    number: int
    values: dict[str, Any]
    failed: set[str] = field(default_factory=set)

    def has(self, header: str) -> bool:
        return header in self.values

    def get(self, header: str, default: Any = None) -> Any:
        value = self.values.get(header)
        return default if value is None else value


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        counts = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        if self.deleted:
            counts["deleted"] = self.deleted
        return counts


class Kind(ABC):
    """A kind of file: its columns, how its rows are checked, written and exported."""

    slug: ClassVar[str]
    label: ClassVar[str | Promise]
    columns: ClassVar[tuple[Column, ...]]

    @abstractmethod
    def check(self, rows: list[Row], present: set[str], problems: Problems) -> Any:
        """Check every row against the database and the rest of the file; the plan to write."""

    @abstractmethod
    def write(self, plan: Any, actor: Any) -> dict[str, Counts]:
        """Write a plan that had no problems; called inside the import's transaction."""

    @abstractmethod
    def export(self) -> Iterator[Sequence[Any]]:
        """Every row of this kind, values in column order, as the importer reads them back."""

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


def duplicate_keys(rows: list[Row], key: Callable[[Row], Any], header: str, problems: Problems) -> set[Any]:
    """Report rows whose natural key an earlier row of the file already has."""
    first: dict[Any, int] = {}
    duplicates = set()
    for row in rows:
        value = key(row)
        if value is None:
            continue
        if value in first:
            duplicates.add(value)
            problems.add(row.number, header, _("Also on row %(row)s: each may appear once.") % {"row": first[value]})
        else:
            first[value] = row.number
    return duplicates


# SQLite allows some thousands of parameters in one query; a file may name 50,000 codes.
QUERY_BATCH = 1000


def batches(values: Iterable[Any], size: int = QUERY_BATCH) -> Iterator[list[Any]]:
    """`values` in lists of at most `size`, for IN lookups that stay under the database's limit."""
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def lookup(model: type[models.Model], field_name: str, values: set[Any]) -> dict[Any, Any]:
    """Rows of `model` by the value of a unique field, a query per thousand values."""
    values.discard(None)
    found = {}
    for batch in batches(sorted(values, key=str)):
        for obj in model._default_manager.filter(**{f"{field_name}__in": batch}):
            found[getattr(obj, field_name)] = obj
    return found


def empty_value(model_field: Any) -> Any:
    """What a blank cell stores: the field's default, else NULL, else an empty string."""
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    return ""


@dataclass(frozen=True)
class Reference:
    """A column naming a row of another table by its code (e.g. department → Department.code)."""

    field: str
    model: type[models.Model]
    lookup: str
    message: str | Promise


@dataclass
class Upsert:
    """A row of the file as the model instance it will save, and whether anything changes."""

    row: int
    instance: models.Model
    created: bool
    changed: bool


class ModelKind(Kind):
    """A kind whose rows are one model's rows: direct fields and references by code."""

    model: ClassVar[type[models.Model]]
    key: ClassVar[str]  # header of the natural key column
    key_field: ClassVar[str]
    fields: ClassVar[dict[str, str]]  # header → model field for plain values
    references: ClassVar[dict[str, Reference]] = {}
    select_related: ClassVar[tuple[str, ...]] = ()

    def check(self, rows: list[Row], present: set[str], problems: Problems) -> list[Upsert]:
        duplicate_keys(rows, lambda row: row.get(self.key), self.key, problems)
        existing = lookup(self.model, self.key_field, {row.get(self.key) for row in rows})
        referenced = {
            header: lookup(ref.model, ref.lookup, {row.get(header) for row in rows})
            for header, ref in self.references.items()
            if header in present
        }
        plan = []
        for row in rows:
            upsert = self._upsert(row, existing, referenced, problems)
            if upsert is not None:
                plan.append(upsert)
        self.check_plan(plan, rows, problems)
        return plan

    def _upsert(
        self,
        row: Row,
        existing: dict[Any, Any],
        referenced: dict[str, dict[Any, Any]],
        problems: Problems,
    ) -> Upsert | None:
        if not row.has(self.key):
            return None
        instance = existing.get(row.get(self.key))
        created = instance is None
        if instance is None:
            instance = self.model()
        changed = False
        for header, field_name in self.fields.items():
            if header in row.values:
                value = row.values[header]
                if value is None:
                    value = empty_value(self.model._meta.get_field(field_name))
                changed |= getattr(instance, field_name) != value
                setattr(instance, field_name, value)
        for header, ref in self.references.items():
            if header not in row.values:
                continue
            code = row.values[header]
            target = referenced[header].get(code) if code is not None else None
            if code is not None and target is None:
                problems.add(row.number, header, str(ref.message) % {"code": code})
                continue
            attname = cast(models.ForeignKey[Any, Any], self.model._meta.get_field(ref.field)).attname
            new_id = target.pk if target is not None else None
            changed |= getattr(instance, attname) != new_id
            setattr(instance, ref.field, target)
        self.validate_fields(instance, row, problems)
        return Upsert(row.number, instance, created, created or changed)

    def validate_fields(self, instance: models.Model, row: Row, problems: Problems) -> None:
        """The model's own field checks (lengths, choices, formats), without touching the database."""
        by_field = {field_name: header for header, field_name in self.fields.items()}
        related = [f.name for f in self.model._meta.get_fields() if f.is_relation]
        try:
            instance.clean_fields(exclude=related)
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                header = by_field.get(field_name, "")
                if header in row.failed:
                    continue  # already reported as unreadable or missing
                for message in messages:
                    problems.add(row.number, header, message)

    def check_plan(self, plan: list[Upsert], rows: list[Row], problems: Problems) -> None:
        """Checks across rows beyond the natural key (other unique values); none by default."""

    def write(self, plan: list[Upsert], actor: Any) -> dict[str, Counts]:
        counts = Counts()
        for upsert in plan:
            if not upsert.changed:
                counts.unchanged += 1
                continue
            upsert.instance._history_user = actor  # type: ignore[attr-defined]
            upsert.instance.save()
            if upsert.created:
                counts.created += 1
            else:
                counts.updated += 1
        return {self.slug: counts}

    def export(self) -> Iterator[Sequence[Any]]:
        queryset = self.model._default_manager.select_related(*self.select_related).order_by(self.key_field)
        for instance in queryset.iterator(chunk_size=2000):
            yield [self.export_value(instance, header) for header in self.headers]

    def export_value(self, instance: models.Model, header: str) -> Any:
        if header in self.fields:
            return getattr(instance, self.fields[header])
        ref = self.references[header]
        target = getattr(instance, ref.field)
        return getattr(target, ref.lookup) if target is not None else None


def parse_header(kind: Kind, headers: list[str], problems: Problems) -> list[str | None]:
    """The kind's column at each position of the header row; problems for unknown, repeated,
    unnamed or missing columns. Rows are not read when the header row has a problem."""
    known = {column.header for column in kind.columns}
    positions: list[str | None] = []
    for index, raw in enumerate(headers):
        header = normalize_header(raw) if raw else ""
        letter = column_letter(index)
        problems.letters.setdefault(header, letter)
        if not header:
            problems.add(1, "", _("This column has no header; name it or delete the column."), letter=letter)
            positions.append(None)
        elif header not in known:
            problems.add(
                1,
                raw,
                _("Unknown column. The columns of %(kind)s are: %(columns)s.")
                % {"kind": kind.label, "columns": ", ".join(kind.headers)},
                letter=letter,
            )
            positions.append(None)
        elif header in positions:
            problems.add(1, raw, _("This column appears twice."), letter=letter)
            positions.append(None)
        else:
            positions.append(header)
    for column in kind.columns:
        if column.required and column.header not in positions:
            problems.add(
                1,
                column.header,
                _("Missing column: every file of %(kind)s needs it.") % {"kind": kind.label},
                letter="",
            )
    return positions


def parse_rows(kind: Kind, table: Table, positions: list[str | None], problems: Problems) -> list[Row]:
    """Every row's cells read by their column's parser; unreadable cells become problems."""
    columns = {column.header: column for column in kind.columns}
    rows = []
    for number, cells in table.rows:
        row = Row(number=number, values={})
        for index, cell in enumerate(cells):
            header = positions[index] if index < len(positions) else None
            if header is None:
                if index >= len(positions) and not is_blank(cell):
                    problems.add(number, "", _("This cell has no column header above it."), letter=column_letter(index))
                continue
            column = columns[header]
            if is_blank(cell):
                if column.required:
                    problems.add(number, header, _("Required."))
                    row.failed.add(header)
                else:
                    row.values[header] = None
                continue
            try:
                row.values[header] = apply(column.parse, cell, decimal_comma=table.decimal_comma)
            except CellError as error:
                problems.add(number, header, str(error))
                row.failed.add(header)
        for header in positions[len(cells) :]:
            # CSV rows may stop early; openpyxl pads rows to the sheet's width.
            if header is None:
                continue
            if columns[header].required:
                problems.add(number, header, _("Required."))
                row.failed.add(header)
            else:
                row.values[header] = None
        rows.append(row)
    return rows
