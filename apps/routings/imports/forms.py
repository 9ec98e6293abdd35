from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS
from .reader import MAX_FILE_BYTES

FORMATS = (("xlsx", _("Excel workbook (.xlsx)")), ("csv", _("CSV, UTF-8 (.csv)")))


def kind_choices() -> list[tuple[str, Any]]:
    return [(slug, str(kind.label).capitalize()) for slug, kind in KINDS.items()]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=kind_choices, initial="jobs")
    file = forms.FileField(label=_("File"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per form so that it is in the language of the request, not of the first import.
        self.fields["file"].help_text = _("Excel .xlsx or CSV; first row = column headers; up to %(mb)s MB.") % {
            "mb": MAX_FILE_BYTES // 1024 // 1024
        }


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to export"), choices=kind_choices, initial="jobs")
    format = forms.ChoiceField(label=_("Format"), choices=FORMATS, initial="xlsx")
