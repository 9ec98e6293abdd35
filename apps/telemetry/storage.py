"""Idempotent bulk storage of observations and gaps, and the day partitions of the sample table.

Every source may deliver a sample twice (MQTT QoS 1 after a crash, an MTConnect re-read), so a
write is an insert that skips what is already there, and the caller learns exactly how many rows
were new. PostgreSQL gets the rows through one binary COPY straight into the table, inside a
savepoint; when that meets a row already stored (a redelivery), the batch goes instead through COPY
into a session-local temporary table and one INSERT ... SELECT ... ON CONFLICT DO NOTHING.
SQLite, the embedded default, takes chunked INSERT OR IGNORE through the ORM.

A fast signal's evenly spaced run of numbers inside one message is a `Block`, stored as one
SampleBlock row (INSERT ... ON CONFLICT DO NOTHING RETURNING count, on both databases): see `as_blocks`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncHour
from psycopg.errors import UniqueViolation

from apps.machines.models import WorkCenter
from apps.telemetry.models import HourlyRollup, Sample, SampleBlock, StreamGap, unpack_values
from apps.telemetry.observations import Block, Gap, MalformedMessage, Observation, Value

SQLITE_CHUNK = 500  # rows per INSERT: 9 columns stay well under SQLite's 32766 variable limit
BLOCK_CHUNK = 500  # blocks per INSERT, 9 parameters each
BLOCK_MIN = 32  # values: a shorter run is stored as rows
MAX_BLOCK_INTERVAL = timedelta(seconds=1)  # a slower signal is not a fast one: rows
ONE_US = timedelta(microseconds=1)
ONE_HOUR = timedelta(hours=1)

_COLUMNS = ("work_center_id", "stream", "sequence", "timestamp", "metric", "value_number", "value_text", "value_bool")
_LOAD_TABLE = "telemetry_sample_load"
_CREATE_LOAD_TABLE = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_LOAD_TABLE} (
    work_center_id bigint, stream text, sequence bigint, "timestamp" timestamptz, metric text,
    value_number double precision, value_text text, value_bool boolean
)"""
_QUOTED_COLUMNS = ", ".join(f'"{column}"' for column in _COLUMNS)
# Binary COPY: psycopg packs each value in C, where the text format formats every timestamp and float
# as a string first (about three times the cost per row).
_BINARY = "FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ["int8", "text", "int8", "timestamptz", "text", "float8", "text", "bool"]


@dataclass(frozen=True, slots=True)
class StoredCounts:
    """Rows written by one store() call: `duplicates` were already stored (or repeated within the batch)."""

    inserted: int
    duplicates: int


class WorkCenterCodes:
    """Work center code → id, loaded once and reloaded when an unknown code shows up.

    A long-running worker asks for every message; reloading on a miss picks up a machine created
    after the worker started, and `min_reload_interval` keeps a flood of messages for a machine that
    does not exist from turning into one query each.
    """

    def __init__(self, *, min_reload_interval: float = 5.0) -> None:
        self.min_reload_interval = min_reload_interval
        self._ids: dict[str, int] = {}
        self._loaded_at: float | None = None

    def reload(self) -> None:
        self._ids = dict(WorkCenter.objects.values_list("code", "id"))
        self._loaded_at = time.monotonic()

    def _reload_due(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at >= self.min_reload_interval

    def get(self, code: str) -> int | None:
        if code not in self._ids and self._reload_due():
            self.reload()
        return self._ids.get(code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None


def retention_days() -> int:
    return int(settings.SAMPLE_RETENTION_DAYS)


def _columns(value: Value) -> tuple[float | None, str | None, bool | None]:
    # Exact float first: most samples are one, and this runs once per row. Then bool before int:
    # True is an int to Python but a flag to the machine.
    if type(value) is float:
        return value, None, None
    if isinstance(value, bool):
        return None, None, value
    if isinstance(value, int | float):
        return float(value), None, None
    if isinstance(value, str):
        return None, value, None
    return None, None, None


def _resolve(codes: Iterable[str], work_centers: WorkCenterCodes) -> dict[str, int]:
    ids: dict[str, int] = {}
    for code in set(codes):
        pk = work_centers.get(code)
        if pk is None:
            raise MalformedMessage("unknown_machine", f"{code!r} is not a known machine")
        ids[code] = pk
    return ids


def as_blocks(observations: Sequence[Observation]) -> tuple[list[Observation], list[Block]]:
    """The observations of one message split into what is stored as rows and what as blocks.

    A block is a run of at least BLOCK_MIN observations, next to each other in `observations`, of one
    machine, stream and metric, with float values, sequences n, n + 1, ... and timestamps the same
    interval apart (more than zero, at most MAX_BLOCK_INTERVAL): what a sensor sampling at a fixed rate
    sends. Everything else is returned as it was, in order.

    Call it once per message, and only for a source whose message always decodes to the same keys
    (Sparkplug: the sequence comes from the message itself). Blocks are deduplicated on their first
    sequence, so a redelivery must be cut into the same blocks.
    """
    rows: list[Observation] = []
    blocks: list[Block] = []
    count = len(observations)
    begin = 0
    while begin < count:
        first = observations[begin]
        end = begin + 1
        if type(first.value) is float:
            end = _run_end(observations, begin)
        if end - begin >= BLOCK_MIN:
            interval = (observations[begin + 1].timestamp - first.timestamp) // ONE_US
            values = cast(list[float], [item.value for item in observations[begin:end]])
            blocks.append(
                Block(first.machine, first.stream, first.sequence, first.metric, first.timestamp, interval, values)
            )
        else:
            rows.extend(observations[begin:end])
        begin = end
    return rows, blocks


def _run_end(observations: Sequence[Observation], begin: int) -> int:
    """One past the last observation of the evenly spaced run that starts at `begin`."""
    first = observations[begin]
    machine, stream, metric = first.machine, first.stream, first.metric
    previous, step = first, None
    end = begin + 1
    for item in observations[begin + 1 :]:
        if (
            type(item.value) is not float
            or item.sequence != previous.sequence + 1
            or item.metric != metric
            or item.stream != stream
            or item.machine != machine
        ):
            break
        interval = item.timestamp - previous.timestamp
        if step is None:
            if not timedelta(0) < interval <= MAX_BLOCK_INTERVAL:
                break
            step = interval
        elif interval != step:
            break
        previous = item
        end += 1
    return end


def store(
    observations: Sequence[Observation],
    gaps: Sequence[Gap] = (),
    *,
    blocks: Sequence[Block] = (),
    work_centers: WorkCenterCodes | None = None,
) -> StoredCounts:
    """Store what is new, skip what is already stored, all in one transaction; exact counts back.

    Counts are of samples: a block counts its values. An unknown machine code anywhere in the batch
    raises MalformedMessage("unknown_machine") before anything is written. Pass the worker's long-lived
    `work_centers`; without it the codes are read fresh from the database.
    """
    work_centers = work_centers or WorkCenterCodes()
    ids = _resolve(
        {o.machine for o in observations} | {g.machine for g in gaps} | {b.machine for b in blocks}, work_centers
    )
    rows = [(ids[o.machine], o.stream, o.sequence, o.timestamp, o.metric, *_columns(o.value)) for o in observations]
    with transaction.atomic():
        if not rows:
            inserted = 0
        elif connection.vendor == "postgresql":
            inserted = _copy_insert(rows)
        else:
            inserted = _bulk_insert(rows)
        if blocks:
            inserted += _insert_blocks(blocks, ids)
        if gaps:
            StreamGap.objects.bulk_create(
                [
                    StreamGap(
                        work_center_id=ids[g.machine],
                        stream=g.stream,
                        first_missing=g.first_missing,
                        last_missing=g.last_missing,
                        detected_at=g.detected_at,
                        reason=g.reason[:255],
                    )
                    for g in gaps
                ],
                ignore_conflicts=True,
            )
    samples = len(rows) + sum(len(block.values) for block in blocks)
    return StoredCounts(inserted=inserted, duplicates=samples - inserted)


# Quoted: "end" is an SQL keyword on both databases.
_BLOCK_FIELDS = ("work_center_id", "stream", "first_sequence", "metric", "start", "end", "interval_us", "count", "data")
_BLOCK_COLUMNS = ", ".join(f'"{column}"' for column in _BLOCK_FIELDS)


def _insert_blocks(blocks: Sequence[Block], ids: dict[str, int]) -> int:
    """Insert the blocks not stored yet; the number of values in those that were new."""
    adapt = connection.ops.adapt_datetimefield_value
    inserted = 0
    with connection.cursor() as cursor:
        for begin in range(0, len(blocks), BLOCK_CHUNK):
            chunk = blocks[begin : begin + BLOCK_CHUNK]
            params: list[Any] = []
            for block in chunk:
                end = block.start + (len(block.values) - 1) * block.interval_us * ONE_US
                params += [
                    ids[block.machine],
                    block.stream,
                    block.first_sequence,
                    block.metric,
                    adapt(block.start),
                    adapt(end),
                    block.interval_us,
                    len(block.values),
                    SampleBlock.pack(block.values),
                ]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO telemetry_sampleblock ({_BLOCK_COLUMNS}) VALUES {values} "
                "ON CONFLICT (work_center_id, stream, first_sequence) DO NOTHING RETURNING count",
                params,
            )
            inserted += sum(count for (count,) in cursor.fetchall())
    return inserted


Row = tuple[int, str, int, datetime, str, float | None, str | None, bool | None]


def _bulk_insert(rows: list[Row]) -> int:
    """SQLite: INSERT OR IGNORE in chunks; the connection's change counter gives the exact new-row count."""
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    before = raw.total_changes
    for start in range(0, len(rows), SQLITE_CHUNK):
        Sample.objects.bulk_create(
            [Sample(**dict(zip(_COLUMNS, row, strict=True))) for row in rows[start : start + SQLITE_CHUNK]],
            ignore_conflicts=True,
        )
    return int(raw.total_changes - before)


def _copy_insert(rows: list[Row]) -> int:
    """PostgreSQL: COPY straight into the table; if a row is already there, the load-table path instead.

    A batch is almost always new, and the direct COPY skips a second copy of every row and the ON CONFLICT
    probe. A redelivery makes it fail with a unique violation: the savepoint undoes it and the batch goes
    through the temporary table and INSERT ... ON CONFLICT DO NOTHING, whose row count is exact.
    """
    days = {moment.astimezone(UTC).date() for moment in {row[3] for row in rows}}
    with connection.cursor() as cursor:
        if partitioned(connection):
            for day in sorted(days):
                cursor.execute(_create_partition_sql(day))
        try:
            with transaction.atomic(), cursor.copy(f"COPY telemetry_sample ({_QUOTED_COLUMNS}) {_BINARY}") as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        except UniqueViolation:
            pass
        cursor.execute(_CREATE_LOAD_TABLE)
        cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
        with cursor.copy(f"COPY {_LOAD_TABLE} ({_QUOTED_COLUMNS}) {_BINARY}") as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO telemetry_sample ({_QUOTED_COLUMNS}) SELECT {_QUOTED_COLUMNS} FROM {_LOAD_TABLE} "
            "ON CONFLICT DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
    return int(inserted)


def partitioned(db: BaseDatabaseWrapper) -> bool:
    """Whether telemetry_sample is a declaratively partitioned table (PostgreSQL after migration 0002)."""
    if db.vendor != "postgresql":
        return False
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = 'telemetry_sample' AND pg_table_is_visible(c.oid)"
        )
        return cursor.fetchone() is not None


def hypertable(db: BaseDatabaseWrapper) -> bool:
    """Whether telemetry_sample is a TimescaleDB hypertable (migration 0002 with the extension available)."""
    if db.vendor != "postgresql":
        return False
    with db.cursor() as cursor:
        cursor.execute("SELECT to_regclass('timescaledb_information.hypertables') IS NOT NULL")
        row = cursor.fetchone()
        if not row or not row[0]:
            return False
        cursor.execute("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry_sample'")
        return cursor.fetchone() is not None


def partition_name(day: date) -> str:
    return f"telemetry_sample_p{day:%Y%m%d}"


def _create_partition_sql(day: date) -> str:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF telemetry_sample "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def ensure_partitions(days: Iterable[date]) -> list[str]:
    """Create the day partitions that do not exist yet (PostgreSQL partitioned table only); their names."""
    if not partitioned(connection):
        return []
    existing = set(sample_partitions())
    created = []
    with connection.cursor() as cursor:
        for day in sorted(set(days)):
            if partition_name(day) not in existing:
                cursor.execute(_create_partition_sql(day))
                created.append(partition_name(day))
    return created


def sample_partitions() -> list[str]:
    """The day partitions of telemetry_sample, oldest first (empty unless partitioned)."""
    if not partitioned(connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'telemetry_sample' ORDER BY c.relname"
        )
        return [name for (name,) in cursor.fetchall()]


def drop_samples_before(cutoff: date) -> int:
    """Retention: whole day partitions (or hypertable chunks) before `cutoff` go; on SQLite, rows are deleted.

    Returns the number of partitions dropped on PostgreSQL, of rows deleted on SQLite.
    """
    if partitioned(connection):
        dropped = 0
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of rows written earlier in this transaction would block the DROP.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name in sample_partitions():
                if name < partition_name(cutoff):
                    cursor.execute(f"DROP TABLE {name}")
                    dropped += 1
        return dropped
    moment = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    if hypertable(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM drop_chunks('telemetry_sample', older_than => %s)", [moment])
            row = cursor.fetchone()
        return int(row[0]) if row else 0
    deleted, _ = Sample.objects.filter(timestamp__lt=moment).delete()
    return deleted


def drop_blocks_before(cutoff: date) -> int:
    """Retention of sample blocks: those whose last value is before `cutoff` are deleted; how many."""
    moment = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    deleted, _ = SampleBlock.objects.filter(end__lt=moment).delete()
    return deleted


@dataclass(slots=True)
class _HourFigures:
    """Count, min, max, sum and the latest value (with its timestamp and sequence) of one metric in one hour."""

    count: int
    minimum: float
    maximum: float
    total: float
    latest: tuple[datetime, int]
    last: float

    def add(self, other: _HourFigures) -> None:
        self.count += other.count
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.total += other.total
        if other.latest > self.latest:
            self.latest, self.last = other.latest, other.last


def roll_up_hours(start: datetime, end: datetime) -> int:
    """(Re)compute the hourly roll-ups of numeric samples for the whole UTC hours from `start` to before `end`.

    Samples stored as rows and in blocks both count. Idempotent: a roll-up row is replaced, so an hour
    that was still filling up the last time, or that received late store-and-forward samples, is simply
    computed again. Returns the rows written.
    """
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    figures = _row_figures(first, end)
    for key, block_figures in _block_figures(first, end):
        if key in figures:
            figures[key].add(block_figures)
        else:
            figures[key] = block_figures
    rollups = [
        HourlyRollup(
            work_center_id=work_center_id,
            metric=metric,
            hour=hour,
            count=item.count,
            minimum=item.minimum,
            maximum=item.maximum,
            mean=item.total / item.count,
            last=item.last,
        )
        for (work_center_id, metric, hour), item in figures.items()
    ]
    HourlyRollup.objects.bulk_create(
        rollups,
        update_conflicts=True,
        unique_fields=["work_center", "metric", "hour"],
        update_fields=["count", "minimum", "maximum", "mean", "last"],
    )
    return len(rollups)


HourKey = tuple[int, str, datetime]


def _row_figures(first: datetime, end: datetime) -> dict[HourKey, _HourFigures]:
    groups = (
        Sample.objects.filter(timestamp__gte=first, timestamp__lt=end, value_number__isnull=False)
        .annotate(hour=TruncHour("timestamp", tzinfo=UTC))
        .values("work_center_id", "metric", "hour")
        .annotate(count=Count("id"), total=Sum("value_number"))
        .annotate(minimum=Min("value_number"), maximum=Max("value_number"))
        .annotate(latest=Max("timestamp"))
        .order_by()
    )
    figures: dict[HourKey, _HourFigures] = {}
    for group in groups:
        # The newest sample of the hour, through the (work_center, metric, timestamp) index.
        last = (
            Sample.objects.filter(
                work_center_id=group["work_center_id"],
                metric=group["metric"],
                timestamp=group["latest"],
                value_number__isnull=False,
            )
            .order_by("-sequence")
            .values_list("sequence", "value_number")
            .first()
        )
        if last is None:  # retention dropped the hour while this ran
            continue
        sequence, value = last
        figures[(group["work_center_id"], group["metric"], group["hour"])] = _HourFigures(
            count=group["count"],
            minimum=group["minimum"],
            maximum=group["maximum"],
            total=group["total"],
            latest=(group["latest"], sequence),
            last=cast(float, value),  # value_number__isnull=False
        )
    return figures


def _block_figures(first: datetime, end: datetime) -> Iterator[tuple[HourKey, _HourFigures]]:
    """The figures of the blocks' values in [first, end), hour by hour (a block may span hours)."""
    blocks = SampleBlock.objects.filter(start__lt=end, end__gte=first).values_list(
        "work_center_id", "metric", "first_sequence", "start", "interval_us", "data"
    )
    for work_center_id, metric, first_sequence, block_start, interval_us, data in blocks.iterator():
        values = unpack_values(bytes(data))
        step = interval_us * ONE_US
        lo = max(0, -(-(first - block_start) // step))
        hi = min(len(values), -(-(end - block_start) // step))
        while lo < hi:
            moment = block_start + lo * step
            hour = moment.replace(minute=0, second=0, microsecond=0)
            upto = min(hi, -(-(hour + ONE_HOUR - block_start) // step))
            part = values[lo:upto]
            yield (
                (work_center_id, metric, hour),
                _HourFigures(
                    count=len(part),
                    minimum=min(part),
                    maximum=max(part),
                    total=math.fsum(part),
                    latest=(block_start + (upto - 1) * step, first_sequence + upto - 1),
                    last=part[-1],
                ),
            )
            lo = upto
