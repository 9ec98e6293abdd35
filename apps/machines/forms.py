"""Forms of machines: the admin's shift and exception forms check what the tables cannot."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import BaseInlineFormSet

from .models import CalendarException, Shift, ShiftBreak
from .services import BreakTimes, validate_exception_period, validate_shift


class ShiftInCalendarForm(forms.ModelForm[Shift]):
    """A shift edited inside its calendar: its stored breaks must still fit the new times."""

    class Meta:
        model = Shift
        fields = ("name", "weekday", "start", "end")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            breaks = [BreakTimes(b.start, b.end) for b in self.instance.breaks.all()] if self.instance.pk else []
            validate_shift(weekday=cleaned["weekday"], start=cleaned["start"], end=cleaned["end"], breaks=breaks)
        return cleaned


class BreakFormSet(BaseInlineFormSet[ShiftBreak, Shift, Any]):
    """The breaks of a shift, checked together with the shift's new times.

    The admin builds this formset on the shift as the form has just changed it (unsaved), so
    `self.instance` carries the times being saved.
    """

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        shift = self.instance
        if shift.start is None or shift.end is None or shift.weekday is None:
            return
        breaks = [
            BreakTimes(form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        validate_shift(weekday=shift.weekday, start=shift.start, end=shift.end, breaks=breaks)


class CalendarExceptionForm(forms.ModelForm[CalendarException]):
    class Meta:
        model = CalendarException
        fields = ("kind", "name", "work_center", "start_date", "end_date", "starts_at", "ends_at")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            validate_exception_period(
                start_date=cleaned.get("start_date"),
                end_date=cleaned.get("end_date"),
                starts_at=cleaned.get("starts_at"),
                ends_at=cleaned.get("ends_at"),
            )
        return cleaned
