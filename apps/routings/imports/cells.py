"""Reading one cell of an import file into a Python value, or a reason a planner can act on.

Cells come from openpyxl (str, int, float, bool, date, datetime, time) or from CSV (str). Every
parser gets a non-blank cell and returns the value or raises CellError; blank cells never reach it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Choices
from django.utils.translation import gettext as _

# Floats from Excel carry binary noise (0.1 + 0.2 = 0.30000000000000004); no shop figure has more
# decimals than this, and the model fields then refuse what is still too precise.
_FLOAT_DECIMALS = 9

# Text starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_YES = {"yes", "y", "true", "1", "x", "sí", "si"}
_NO = {"no", "n", "false", "0"}


class CellError(ValueError):
    """The cell's content cannot be used; the message says why, in the planner's words."""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Parser(ABC):
    """A callable turning a cell into a value; `numeric` parsers accept a decimal comma in
    semicolon-separated files, where it is the local convention."""

    numeric = False

    @abstractmethod
    def __call__(self, value: Any) -> Any: ...


class Text(Parser):
    def __call__(self, value: Any) -> str:
        if isinstance(value, bool):
            raise CellError(_("Enter text, not TRUE or FALSE."))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime | date | time):
            raise CellError(_("Enter text, not a date or time (format the column as text)."))
        text = str(value).strip()
        # Exports guard text that a spreadsheet would run as a formula with an apostrophe.
        if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
            return text[1:]
        return text


class WholeNumber(Parser):
    numeric = True

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def __call__(self, value: Any) -> int:
        number = _whole(value)
        if self.minimum is not None and number < self.minimum:
            raise CellError(_("Must be at least %(min)s.") % {"min": self.minimum})
        if self.maximum is not None and number > self.maximum:
            raise CellError(_("Must be at most %(max)s.") % {"max": self.maximum})
        return number


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(_("Enter a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(_("Enter a whole number."))
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+(\.0*)?", text):
        raise CellError(_("Enter a whole number."))
    return int(text.split(".")[0])


class DecimalNumber(Parser):
    numeric = True

    def __init__(self, minimum: Decimal | None = None, *, positive: bool = False) -> None:
        self.minimum = minimum
        self.positive = positive

    def __call__(self, value: Any) -> Decimal:
        number = _decimal(value)
        if self.positive and number <= 0:
            raise CellError(_("Must be more than 0."))
        if self.minimum is not None and number < self.minimum:
            raise CellError(_("Must be at least %(min)s.") % {"min": self.minimum})
        return number


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("Enter a number."))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(round(value, _FLOAT_DECIMALS)))
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise CellError(_("Enter a number, with a point for decimals (1.25)."))
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise CellError(_("Enter a number, with a point for decimals (1.25).")) from error


class YesNo(Parser):
    def __call__(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = str(value).strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise CellError(_("Enter yes or no."))


class IsoDate(Parser):
    def __call__(self, value: Any) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]00:00(:00)?)?", text):
            try:
                return date.fromisoformat(text[:10])
            except ValueError as error:
                raise CellError(_("%(value)s is not a date of the calendar.") % {"value": text[:10]}) from error
        raise CellError(_("Enter a date as YYYY-MM-DD (e.g. 2025-03-14) or as an Excel date."))


class ClockTime(Parser):
    def __call__(self, value: Any) -> time:
        return clock_time(value)


def clock_time(value: Any) -> time:
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0)
    if isinstance(value, timedelta):
        return (datetime.min + value).time()
    if isinstance(value, float) and 0 <= value < 1:
        # A time typed into a cell formatted as a number is a fraction of a day.
        return (datetime.min + timedelta(seconds=round(value * 86400))).time()
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise CellError(_("Enter a time of day as HH:MM (e.g. 06:00 or 22:30)."))
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


class Choice(Parser):
    """One of a model's choices, by its stored value or its label, in any case."""

    def __init__(self, choices: type[Choices], *, abbreviations: bool = False) -> None:
        self.choices = choices
        self.abbreviations = abbreviations  # "Mon" for Monday

    def __call__(self, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip().lower()
        # The stored value, the label in the user's language, or the English name (what exports write).
        for member in self.choices:
            names = {str(member.value).lower(), str(member.label).lower(), member.name.lower().replace("_", " ")}
            if self.abbreviations:
                names |= {name[:3] for name in names}
            if text in names:
                return member.value
        numbered = all(isinstance(stored, int) for stored in self.choices.values)
        allowed = ", ".join(
            str(member.label) if numbered else str(member.value)
            for member in self.choices  # Monday, not 0
        )
        raise CellError(_("Enter one of: %(allowed)s.") % {"allowed": allowed})


class SequenceList(Parser):
    """Routing step numbers such as "10;20" (a comma or a space separates them too)."""

    def __call__(self, value: Any) -> list[int]:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return [_whole(value)]
        parts = [part for part in re.split(r"[;,\s]+", str(value).strip()) if part]
        if not all(part.isdigit() for part in parts):
            raise CellError(_("Enter step numbers separated by semicolons (e.g. 10;20)."))
        return sorted({int(part) for part in parts})


class BreakList(Parser):
    """Unpaid breaks such as "12:00-12:30;15:00-15:10"."""

    def __call__(self, value: Any) -> list[tuple[time, time]]:
        breaks = []
        for part in [p for p in re.split(r"[;,]", str(value)) if p.strip()]:
            pieces = re.split(r"\s*[-–]\s*", part.strip())
            if len(pieces) != 2:
                raise CellError(_("Enter breaks as start-end separated by semicolons (e.g. 12:00-12:30;15:00-15:10)."))
            try:
                start, end = clock_time(pieces[0]), clock_time(pieces[1])
            except CellError as error:
                raise CellError(
                    _("Enter breaks as start-end separated by semicolons (e.g. 12:00-12:30;15:00-15:10).")
                ) from error
            breaks.append((start, end))
        return breaks


def apply(parser: Callable[[Any], Any], value: Any, *, decimal_comma: bool) -> Any:
    """Parse a non-blank cell; in a semicolon CSV "1,25" means 1.25."""
    if decimal_comma and getattr(parser, "numeric", False) and isinstance(value, str) and "." not in value:
        value = value.replace(",", ".", 1) if value.count(",") == 1 else value
    return parser(value)


def format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def format_breaks(breaks: list[tuple[time, time]]) -> str:
    return ";".join(f"{format_time(start)}-{format_time(end)}" for start, end in breaks)
