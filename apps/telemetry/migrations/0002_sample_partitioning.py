"""On PostgreSQL, make telemetry_sample a table partitioned by day (or a TimescaleDB hypertable).

A partitioned table's primary key and unique keys must contain the partition column, so the primary
key becomes (id, timestamp) and the dedup key (work_center_id, stream, sequence, timestamp): every
source computes a sample's timestamp from the message itself, so a redelivered message still hits
the key. The Django model state keeps the plain definition of 0001; SQLite keeps the plain table.
The table is empty here (0001 just created it), so it is dropped and created again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

COLUMNS = """
    id bigint NOT NULL DEFAULT nextval('telemetry_sample_id_seq'),
    stream varchar(255) NOT NULL,
    sequence bigint NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    metric varchar(255) NOT NULL,
    value_number double precision NULL,
    value_text text NULL,
    value_bool boolean NULL,
    work_center_id bigint NOT NULL
        REFERENCES machines_workcenter (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (id, "timestamp"),
    CONSTRAINT telemetry_sample_key UNIQUE (work_center_id, stream, sequence, "timestamp")
"""

# Today and the next week, so the first samples after `migrate` have somewhere to go; the daily
# maintenance task keeps creating days ahead.
FIRST_PARTITIONS = """
DO $$
DECLARE day date;
BEGIN
    FOR day IN SELECT generate_series(current_date - 1, current_date + 7, interval '1 day')::date LOOP
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF telemetry_sample FOR VALUES FROM (%L) TO (%L)',
            'telemetry_sample_p' || to_char(day, 'YYYYMMDD'),
            day::timestamp AT TIME ZONE 'UTC',
            (day + 1)::timestamp AT TIME ZONE 'UTC'
        );
    END LOOP;
END $$;
"""


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        timescale = cursor.fetchone() is not None
        cursor.execute("DROP TABLE telemetry_sample")
        cursor.execute("CREATE SEQUENCE IF NOT EXISTS telemetry_sample_id_seq")
        if timescale:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            cursor.execute(f"CREATE TABLE telemetry_sample ({COLUMNS})")
            cursor.execute(
                "SELECT create_hypertable('telemetry_sample', 'timestamp', chunk_time_interval => interval '1 day')"
            )
        else:
            cursor.execute(f'CREATE TABLE telemetry_sample ({COLUMNS}) PARTITION BY RANGE ("timestamp")')
            cursor.execute(FIRST_PARTITIONS)
        cursor.execute("ALTER SEQUENCE telemetry_sample_id_seq OWNED BY telemetry_sample.id")
        cursor.execute('CREATE INDEX telemetry_sample_metric ON telemetry_sample (work_center_id, metric, "timestamp")')


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TABLE telemetry_sample CASCADE")
    schema_editor.create_model(apps.get_model("telemetry", "Sample"))


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]

    operations = [migrations.RunPython(partition, unpartition)]
