"""Telemetry tables: raw samples, array blocks, hourly roll-ups, recorded gaps and rejected messages.

`Sample` is the hot table. On PostgreSQL migration 0002 turns it into a table partitioned by day on
`timestamp` (a partitioned table's keys must contain the partition column, so there the primary key is
(id, timestamp) and the dedup key (work_center, stream, sequence, timestamp)); SQLite keeps the plain
table this module describes. docs/telemetry-storage.md explains the layout and retention.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.machines.models import WorkCenter


class Sample(models.Model):
    """One value of one metric of one machine at one moment, as a machine or its gateway reported it.

    (work_center, stream, sequence) names the sample at its source, so a message delivered twice is
    stored once. A value is a number, a text or a flag; all three empty means "unavailable".
    """

    # Both composite keys below lead with work_center: a third index on it alone would only slow inserts.
    # No database foreign key: its check at commit cost 4-5 µs of the 12 µs PostgreSQL spends on a row
    # (docs/benchmarks.md). Storage resolves every machine code to a known work center before it writes,
    # and deleting a work center that has samples is still refused (PROTECT is Django's, not the database's).
    work_center = models.ForeignKey(
        WorkCenter,
        verbose_name=_("work center"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    stream = models.CharField(_("stream"), max_length=255)
    sequence = models.BigIntegerField(_("sequence"))
    timestamp = models.DateTimeField(_("timestamp"))
    metric = models.CharField(_("metric"), max_length=255)
    value_number = models.FloatField(_("number"), null=True, blank=True)
    value_text = models.TextField(_("text"), null=True, blank=True)
    value_bool = models.BooleanField(_("flag"), null=True, blank=True)

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        # The one write path to machines (apps/telemetry/opcua/writes.py) is gated by this.
        permissions = [("write_opcua", _("Can write to OPC UA servers"))]
        constraints = [
            models.UniqueConstraint(fields=["work_center", "stream", "sequence"], name="telemetry_sample_key"),
        ]
        indexes = [models.Index(fields=["work_center", "metric", "timestamp"], name="telemetry_sample_metric")]

    def __str__(self) -> str:
        return f"{self.metric} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"

    @property
    def value(self) -> float | str | bool | None:
        if self.value_bool is not None:
            return self.value_bool
        if self.value_number is not None:
            return self.value_number
        return self.value_text


class SampleBlock(models.Model):
    """Evenly spaced values of one fast signal (vibration, current) in one row instead of thousands.

    The values are little-endian float64 (a Double arrives and leaves bit for bit), `interval_us`
    microseconds apart from `start`; `end` is the moment of the last one. The block's samples carry the
    sequences first_sequence .. first_sequence + count - 1 of their stream. The ingest writes blocks for
    runs of one numeric metric in one Sparkplug message (`storage.as_blocks`); every reader of raw
    samples (roll-ups, retention, the energy report) reads them too.
    """

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.PROTECT, related_name="+"
    )
    stream = models.CharField(_("stream"), max_length=255)
    first_sequence = models.BigIntegerField(_("first sequence"))
    metric = models.CharField(_("metric"), max_length=255)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    interval_us = models.PositiveBigIntegerField(_("sample interval (µs)"))
    count = models.PositiveIntegerField(_("values"))
    data = models.BinaryField(_("float64 values"))

    class Meta:
        verbose_name = _("sample block")
        verbose_name_plural = _("sample blocks")
        constraints = [
            models.UniqueConstraint(
                fields=["work_center", "stream", "first_sequence"], name="telemetry_sampleblock_key"
            ),
        ]
        indexes = [models.Index(fields=["work_center", "metric", "start"], name="telemetry_block_metric")]

    def __str__(self) -> str:
        return f"{self.metric} @ {self.start:%Y-%m-%d %H:%M:%S} ({self.count})"

    @staticmethod
    def pack(values: Sequence[float]) -> bytes:
        return _little_endian(array("d", values)).tobytes()

    @property
    def values(self) -> array[float]:
        return unpack_values(bytes(self.data))

    def samples(self) -> Iterator[tuple[int, datetime, float]]:
        """(sequence, timestamp, value) of every value in the block, in order."""
        step = timedelta(microseconds=self.interval_us)
        for index, value in enumerate(self.values):
            yield self.first_sequence + index, self.start + index * step, value


def unpack_values(data: bytes) -> array[float]:
    return _little_endian(array("d", data))


def _little_endian(values: array[float]) -> array[float]:
    """Native order to stored order and back: the same swap, needed only on a big-endian host."""
    if sys.byteorder != "little":
        values.byteswap()
    return values


class HourlyRollup(models.Model):
    """Count, min, max, mean and last numeric value of one metric of one machine in one UTC hour.

    Kept after the raw samples are dropped by retention: long-range charts and reports read these.
    """

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.CASCADE, related_name="+"
    )
    metric = models.CharField(_("metric"), max_length=255)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("count"))
    minimum = models.FloatField(_("min"))
    maximum = models.FloatField(_("max"))
    mean = models.FloatField(_("mean"))
    last = models.FloatField(_("last"))

    class Meta:
        verbose_name = _("hourly roll-up")
        verbose_name_plural = _("hourly roll-ups")
        constraints = [
            models.UniqueConstraint(fields=["work_center", "metric", "hour"], name="telemetry_rollup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.hour:%Y-%m-%d %H}:00"


class StreamGap(models.Model):
    """Samples a source lost for good (buffer wrapped, sequence jumped): the hole is recorded, never filled."""

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.CASCADE, related_name="+"
    )
    stream = models.CharField(_("stream"), max_length=255)
    first_missing = models.BigIntegerField(_("first missing"))
    last_missing = models.BigIntegerField(_("last missing"))
    detected_at = models.DateTimeField(_("detected at"))
    reason = models.CharField(_("reason"), max_length=255)

    class Meta:
        verbose_name = _("stream gap")
        verbose_name_plural = _("stream gaps")
        constraints = [
            models.UniqueConstraint(
                fields=["work_center", "stream", "first_missing", "last_missing"], name="telemetry_gap_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.first_missing}..{self.last_missing}"


class DeadLetter(models.Model):
    """A message that could not be stored, kept byte for byte with the reason so it can be fixed and replayed."""

    received_at = models.DateTimeField(_("received at"), db_index=True)
    source = models.CharField(_("source"), max_length=20)
    topic = models.CharField(_("topic"), max_length=1024)
    reason = models.CharField(_("reason"), max_length=40, db_index=True)
    message = models.TextField(_("message"))
    payload = models.BinaryField(_("payload"))
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ("-received_at", "-id")

    def __str__(self) -> str:
        return f"{self.reason}: {self.topic}"
