"""The store-and-forward buffer: one SQLite file in WAL mode with synchronous=FULL.

Everything the gateway reads from a machine is committed here before it is published, together with
the source's position (so a restart neither re-reads nor skips an agent's entries) and the stream's
next sequence number (so a restart continues the numbering the MES deduplicates on). A row is deleted
only after the broker acknowledged the message that carried it; a crash in between republishes it
with the same (topic, seq), which the ingest recognises as a duplicate. synchronous=FULL makes every
commit durable before it returns, so a power cut loses nothing that was acknowledged upstream.

Disk use is bounded by `max_bytes`, counted as the stored size of the rows (topic + JSON sample +
ROW_OVERHEAD for SQLite's row and index bookkeeping).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROW_OVERHEAD = 32
_CHUNK = 500  # ids per statement, well under SQLite's bound-parameter limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (topic TEXT PRIMARY KEY, next_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS backlog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sample TEXT NOT NULL,
    size INTEGER NOT NULL,
    buffered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (source TEXT PRIMARY KEY, position TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Record:
    """One sample to buffer: its topic and the sample fields other than `seq`, which the buffer stamps."""

    topic: str
    fields: dict[str, object]
    always: bool = False  # stored even above the size limit: a gap record is what tells the MES data is missing


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    topic: str
    seq: int
    sample: str


@dataclass(frozen=True, slots=True)
class Backlog:
    rows: int
    bytes: int
    oldest_age: float | None
    refused: int
    streams: int
    file_bytes: int


class Buffer:
    """Owned by one gateway process and used by one thread at a time (it may be opened before the gateway's
    thread starts, hence check_same_thread=False); `--status` may read the file concurrently."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=10.0, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        rows, size = self.db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM backlog").fetchone()
        self.rows: int = rows
        self.bytes: int = size

    def close(self) -> None:
        self.db.close()

    def checkpoint(self, source: str) -> str | None:
        row = self.db.execute("SELECT position FROM checkpoints WHERE source = ?", (source,)).fetchone()
        return None if row is None else str(row[0])

    def record(
        self, records: Sequence[Record], *, source: str, position: str | None, limit: int | None = None
    ) -> list[Row | None]:
        """Stamp each record with its stream's next seq and store it, with the source position, in one commit.

        A record that would take the stored bytes above `limit` is not stored (None in the answer, in the
        input's order) and uses no seq; records marked `always` (gaps) are stored regardless. A new stream
        starts at the current epoch milliseconds rather than 0: if the buffer file is ever lost, the numbers
        still go up and the MES does not take fresh samples for duplicates of old ones.
        """
        stored: list[Row | None] = []
        now = self.clock()
        added = 0
        with self._transaction():
            for record in records:
                found = self.db.execute("SELECT next_seq FROM streams WHERE topic = ?", (record.topic,)).fetchone()
                seq = int(found[0]) if found else int(now * 1000)
                sample = json.dumps({"seq": seq, **record.fields}, separators=(",", ":"), allow_nan=False)
                size = sample_size(record.topic, sample)
                if limit is not None and not record.always and self.bytes + added + size > limit:
                    stored.append(None)
                    continue
                self.db.execute(
                    "INSERT INTO streams (topic, next_seq) VALUES (?, ?) "
                    "ON CONFLICT (topic) DO UPDATE SET next_seq = excluded.next_seq",
                    (record.topic, seq + 1),
                )
                cursor = self.db.execute(
                    "INSERT INTO backlog (topic, seq, sample, size, buffered_at) VALUES (?, ?, ?, ?, ?)",
                    (record.topic, seq, sample, size, now),
                )
                stored.append(Row(id=int(cursor.lastrowid or 0), topic=record.topic, seq=seq, sample=sample))
                added += size
            if position is not None:
                self._save_checkpoint(source, position)
        self.rows += sum(1 for row in stored if row is not None)
        self.bytes += added
        return stored

    def save_checkpoint(self, source: str, position: str) -> None:
        with self._transaction():
            self._save_checkpoint(source, position)

    def count_refused(self, count: int) -> int:
        with self._transaction():
            self.db.execute(
                "INSERT INTO counters (name, value) VALUES ('refused', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (count,),
            )
        return self.refused()

    def refused(self) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name = 'refused'").fetchone()
        return 0 if row is None else int(row[0])

    def pending(self, after: int, limit: int) -> list[Row]:
        """Rows not yet handed to the current broker connection, oldest first."""
        return [
            Row(id=row[0], topic=row[1], seq=row[2], sample=row[3])
            for row in self.db.execute(
                "SELECT id, topic, seq, sample FROM backlog WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
            )
        ]

    def delete(self, ids: Iterable[int]) -> None:
        """Forget rows the broker acknowledged (no DELETE ... RETURNING: older system SQLite lacks it)."""
        wanted = list(ids)
        if not wanted:
            return
        with self._transaction():
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows, size = self.db.execute(
                    f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM backlog WHERE id IN ({marks})", chunk
                ).fetchone()
                self.db.execute(f"DELETE FROM backlog WHERE id IN ({marks})", chunk)
                self.rows -= int(rows)
                self.bytes -= int(size)

    def backlog(self) -> Backlog:
        rows, size, oldest = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), MIN(buffered_at) FROM backlog"
        ).fetchone()
        streams = self.db.execute("SELECT COUNT(*) FROM streams").fetchone()[0]
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        return Backlog(
            rows=int(rows),
            bytes=int(size),
            oldest_age=None if oldest is None else max(0.0, self.clock() - float(oldest)),
            refused=self.refused(),
            streams=int(streams),
            file_bytes=sum(file.stat().st_size for file in files if file.exists()),
        )

    def _save_checkpoint(self, source: str, position: str) -> None:
        self.db.execute(
            "INSERT INTO checkpoints (source, position) VALUES (?, ?) "
            "ON CONFLICT (source) DO UPDATE SET position = excluded.position",
            (source, position),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


def sample_size(topic: str, sample: str) -> int:
    return len(topic.encode()) + len(sample.encode()) + ROW_OVERHEAD


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
