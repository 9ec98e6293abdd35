from __future__ import annotations

import string

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin_base import ReadOnlyAdmin

from .ingest import replay_dead_letters
from .models import DeadLetter, HourlyRollup, Sample, SampleBlock, StreamGap

PREVIEW_BYTES = 2048
_PRINTABLE = set(string.printable) - set("\x0b\x0c")


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "work_center", "metric", "value", "stream", "sequence")
    list_filter = ("work_center",)
    search_fields = ("metric", "stream", "work_center__code")
    list_select_related = ("work_center",)
    autocomplete_fields = ("work_center",)
    date_hierarchy = "timestamp"
    # Counting a table of millions of rows on every page would make the list unusable.
    show_full_result_count = False


@admin.register(SampleBlock)
class SampleBlockAdmin(ReadOnlyAdmin):
    list_display = ("start", "work_center", "metric", "count", "interval_us", "stream", "first_sequence")
    list_filter = ("work_center",)
    search_fields = ("metric", "stream", "work_center__code")
    list_select_related = ("work_center",)
    autocomplete_fields = ("work_center",)
    exclude = ("data",)
    show_full_result_count = False


@admin.register(HourlyRollup)
class HourlyRollupAdmin(ReadOnlyAdmin):
    list_display = ("hour", "work_center", "metric", "count", "minimum", "maximum", "mean", "last")
    list_filter = ("work_center",)
    search_fields = ("metric", "work_center__code")
    list_select_related = ("work_center",)
    autocomplete_fields = ("work_center",)
    date_hierarchy = "hour"


@admin.register(StreamGap)
class StreamGapAdmin(ReadOnlyAdmin):
    list_display = ("detected_at", "work_center", "stream", "first_missing", "last_missing", "reason")
    list_filter = ("work_center",)
    search_fields = ("stream", "reason", "work_center__code")
    list_select_related = ("work_center",)
    autocomplete_fields = ("work_center",)
    date_hierarchy = "detected_at"


def payload_preview(payload: bytes) -> str:
    """UTF-8 text as it is (JSON), anything else (Sparkplug protobuf) as a hex dump, first 2 KiB."""
    head = payload[:PREVIEW_BYTES]
    more = len(payload) > PREVIEW_BYTES
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if head and text and set(text) <= _PRINTABLE:
        return text + ("…" if more else "")
    lines = []
    for offset in range(0, len(head), 16):
        chunk = head[offset : offset + 16]
        shown = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {chunk.hex(' '):<47}  {shown}")
    return "\n".join(lines) + ("\n…" if more else "")


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "source", "reason", "topic", "size")
    list_filter = ("reason", "source")
    search_fields = ("topic", "message")
    list_select_related = True
    date_hierarchy = "received_at"
    fields = ("received_at", "source", "topic", "reason", "message", "size", "preview")
    readonly_fields = fields
    actions = ("replay",)

    @admin.display(description=_("payload"))
    def preview(self, obj: DeadLetter) -> str:
        return format_html("<pre>{}</pre>", payload_preview(bytes(obj.payload)))

    @admin.action(description=_("Replay through the decoder"), permissions=["delete"])
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        outcome = replay_dead_letters(queryset)
        self.message_user(
            request,
            ngettext("%(count)d message stored.", "%(count)d messages stored.", outcome.stored)
            % {"count": outcome.stored},
            messages.SUCCESS,
        )
        if outcome.failed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message still fails; its reason is updated.",
                    "%(count)d messages still fail; their reasons are updated.",
                    outcome.failed,
                )
                % {"count": outcome.failed},
                messages.WARNING,
            )
