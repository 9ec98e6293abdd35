"""Forms of the routings pages: the workflow buttons that need a word, and the file upload."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .choices import PartFileKind
from .uploads import EXTENSIONS


class HoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=_("Why the job stops: shown to the floor."))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class SplitForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity to split off"), min_value=1)


class PartFileUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PartFileKind.choices)
    file = forms.FileField(
        label=_("File"),
        allow_empty_file=True,
        help_text=format_lazy("{} {}", _("Drawing: .pdf; DXF: .dxf; NC program:"), " ".join(EXTENSIONS["nc"])),
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(sorted({ext for exts in EXTENSIONS.values() for ext in exts}))}
        ),
    )
