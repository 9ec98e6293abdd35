"""The edge gateway's loop: poll sources, commit to the buffer, publish from the buffer, delete on PUBACK.

One thread does everything, in this order each round, so there is never a sample on the wire that is
not already durable in the buffer, and never a deletion before the broker took responsibility for the
message. When the broker is away the gateway keeps polling and buffering, and reconnects with
exponential back-off; every new connection republishes from the oldest row still in the buffer.

Observations go to `shopfloor/<department>/<machine>/<metric>` as `{"samples": [...]}` batches in the
form `apps.telemetry.topics.decode_json` accepts, with `seq` = the gateway's per-topic sequence. A gap
a source reports goes to the metric `gap` of its machine: a sample whose value names the reason and the
lost source sequences and whose `gap` object carries the Gap's fields, so the hole is explicit
downstream instead of disappearing behind the gateway's own contiguous numbering.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apps.telemetry.edge.buffer import Backlog, Buffer, Record, Row
from apps.telemetry.edge.config import BrokerConfig, GatewayConfig
from apps.telemetry.edge.publisher import BrokerUnavailable, MqttConnection
from apps.telemetry.edge.sources import Source, SourceUnavailable
from apps.telemetry.observations import Gap, Observation
from apps.telemetry.topics import ROOT

logger = logging.getLogger(__name__)

GAP_METRIC = "gap"
WARN_FRACTION = 0.8
_ENVELOPE = len(b'{"samples":[]}')
_SEQ_ROOM = len('"seq":9223372036854775807,')
_UNSAFE = str.maketrans({"/": "_", "+": "_", "#": "_", "\x00": "_"})

Connector = Callable[[BrokerConfig, Callable[[int], None], int], MqttConnection]


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    row_ids: tuple[int, ...]


def topic_for(department: str, machine: str, metric: str) -> str:
    """An MQTT topic level cannot hold `/` or wildcards: those characters become `_`."""
    return "/".join((ROOT, *(part.translate(_UNSAFE) or "_" for part in (department, machine, metric))))


def to_record(department: str, item: Observation | Gap) -> Record:
    if isinstance(item, Gap):
        return Record(
            topic=topic_for(department, item.machine, GAP_METRIC),
            always=True,
            fields={
                "ts": item.detected_at.isoformat(),
                "value": f"{item.reason} {item.stream} {item.first_missing}..{item.last_missing}",
                "gap": {
                    "stream": item.stream,
                    "first_missing": item.first_missing,
                    "last_missing": item.last_missing,
                    "reason": item.reason,
                },
            },
        )
    value = item.value
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    return Record(
        topic=topic_for(department, item.machine, item.metric),
        fields={"ts": item.timestamp.isoformat(), "value": value, "source": item.stream, "source_seq": item.sequence},
    )


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        sources: Sequence[Source],
        buffer: Buffer,
        *,
        connector: Connector = MqttConnection,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.sources = list(sources)
        self.buffer = buffer
        self.connector = connector
        self.monotonic = monotonic
        self.connection: MqttConnection | None = None
        self.inflight: dict[int, _Message] = {}
        self.acked: list[int] = []
        self.sent_upto = 0
        self.published = 0
        self.refused_here = 0
        self._backoff = config.broker.reconnect_min
        self._next_attempt = 0.0
        self._next_poll = 0.0
        self._next_status = monotonic() + config.status_interval
        self._failing: set[str] = set()
        self._above_warning = False

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; then a short grace period for outstanding PUBACKs, and close."""
        logger.info(
            "edge gateway started: %d source(s), buffer %s, broker %s:%d",
            len(self.sources),
            self.buffer.path,
            self.config.broker.host,
            self.config.broker.port,
        )
        self.report()
        try:
            while not stop.is_set():
                self.step(stop)
            self.drain(timeout=2.0)
        finally:
            self.close()

    def step(self, stop: threading.Event | None = None) -> None:
        now = self.monotonic()
        if now >= self._next_poll:
            self.poll_sources()
            self._next_poll = now + self.config.poll_interval
        if self.connect(now):
            self.publish_pending()
            self.pump(min(0.05, self.config.poll_interval))
        else:
            wait = max(0.0, min(self._next_poll, self._next_attempt) - self.monotonic())
            if stop is not None:
                stop.wait(min(wait, 0.2))
            else:
                time.sleep(min(wait, 0.2))
        if self.monotonic() >= self._next_status:
            self.report()
            self._next_status = self.monotonic() + self.config.status_interval

    def poll_sources(self) -> None:
        for source in self.sources:
            try:
                items = source.poll()
            except SourceUnavailable as exc:
                if source.name not in self._failing:
                    logger.warning("source %s unavailable, retrying every poll: %s", source.name, exc)
                    self._failing.add(source.name)
                continue
            if source.name in self._failing:
                logger.info("source %s is back", source.name)
                self._failing.discard(source.name)
            self.accept(source, items)

    def accept(self, source: Source, items: Sequence[Observation | Gap]) -> None:
        """Buffer a poll's gaps and observations; observations that do not fit under max_buffer_mb are refused."""
        for item in items:
            if isinstance(item, Gap):
                logger.warning(
                    "source %s lost %s sequences %d..%d of %s (%s): recorded as a gap",
                    source.name,
                    item.machine,
                    item.first_missing,
                    item.last_missing,
                    item.stream,
                    item.reason,
                )
        records = [to_record(source.department, item) for item in items]
        fits = [record.always or self._fits(record) for record in records]
        oversize = [item for item, ok in zip(items, fits, strict=True) if not ok]
        if oversize:
            self.refuse(source, oversize, why=f"larger than max_message_bytes {self.config.max_message_bytes}")
        kept = [(item, record) for item, record, ok in zip(items, records, fits, strict=True) if ok]
        stored = self.buffer.record(
            [record for _, record in kept],
            source=source.name,
            position=source.checkpoint(),
            limit=self.config.max_buffer_bytes,
        )
        refused = [item for (item, _), row in zip(kept, stored, strict=True) if row is None]
        if refused:
            self.refuse(source, refused)
        self._check_fill()

    def refuse(self, source: Source, observations: Sequence[Observation | Gap], why: str | None = None) -> None:
        self.refused_here += len(observations)
        total = self.buffer.count_refused(len(observations))
        ranges: dict[tuple[str, str], list[int]] = defaultdict(list)
        for observation in observations:
            if isinstance(observation, Observation):
                ranges[(observation.machine, observation.metric)].append(observation.sequence)
        dropped = ", ".join(
            f"{machine}/{metric} source seq {min(seqs)}..{max(seqs)} ({len(seqs)})"
            for (machine, metric), seqs in ranges.items()
        )
        reason = why or (
            f"buffer full ({self.buffer.bytes} of max_buffer_mb {self.config.max_buffer_mb:g} = "
            f"{self.config.max_buffer_bytes} bytes)"
        )
        logger.error(
            "REFUSED %d observation(s) from %s, %s: %s; %d refused in total",
            len(observations),
            source.name,
            reason,
            dropped,
            total,
        )

    def connect(self, now: float) -> bool:
        if self.connection is not None and self.connection.alive:
            return True
        if self.connection is not None:
            logger.warning(
                "broker connection lost; %d unacknowledged message(s) stay buffered and will be republished",
                len(self.inflight),
            )
            self._forget_connection()
            self._next_attempt = now + self._backoff
        if now < self._next_attempt:
            return False
        connection = self.connector(self.config.broker, self.acked.append, self.config.max_inflight)
        try:
            connection.open()
        except BrokerUnavailable as exc:
            logger.warning("%s; next attempt in %.1f s, buffering meanwhile", exc, self._backoff)
            self._next_attempt = now + self._backoff
            self._backoff = min(self._backoff * 2, self.config.broker.reconnect_max)
            return False
        logger.info("connected to the broker; publishing a backlog of %d row(s)", self.buffer.rows)
        self.connection = connection
        self._backoff = self.config.broker.reconnect_min
        self.sent_upto = 0
        return True

    def publish_pending(self) -> None:
        """Hand buffered rows to the connection, oldest first, while fewer than max_inflight are unacknowledged."""
        connection = self.connection
        while connection is not None and connection.alive and len(self.inflight) < self.config.max_inflight:
            rows = self.buffer.pending(self.sent_upto, self.config.batch_size)
            if not rows:
                return
            try:
                for message, payload in self._messages(rows):
                    mid = connection.publish(message.topic, payload)
                    self.inflight[mid] = message
            except BrokerUnavailable as exc:
                logger.warning("%s", exc)
                return
            self.sent_upto = rows[-1].id

    def pump(self, timeout: float) -> None:
        if self.connection is not None:
            self.connection.pump(timeout)
        self.settle()

    def settle(self) -> None:
        """Delete the rows of every acknowledged message."""
        if not self.acked:
            return
        done: list[int] = []
        for mid in self.acked:
            message = self.inflight.pop(mid, None)
            if message is not None:
                done.extend(message.row_ids)
                self.published += len(message.row_ids)
        self.acked.clear()
        self.buffer.delete(done)
        self._check_fill()

    def drain(self, timeout: float) -> None:
        deadline = self.monotonic() + timeout
        while self.inflight and self.connection is not None and self.connection.alive:
            if self.monotonic() >= deadline:
                break
            self.pump(0.05)

    def report(self) -> Backlog:
        """The periodic backlog line; a WARNING with ALARM while the buffer is above 80 % of its bound."""
        backlog = self.buffer.backlog()
        if backlog.bytes >= WARN_FRACTION * self.config.max_buffer_bytes:
            logger.warning("ALARM backlog: %s", describe(backlog, self.config))
        else:
            logger.info("backlog: %s", describe(backlog, self.config))
        return backlog

    def close(self) -> None:
        self._forget_connection()
        for source in self.sources:
            source.close()
        logger.info("edge gateway stopped; %s", describe(self.buffer.backlog(), self.config))
        self.buffer.close()

    def _forget_connection(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None
        self.inflight.clear()
        self.acked.clear()
        self.sent_upto = 0

    def _messages(self, rows: Sequence[Row]) -> list[tuple[_Message, bytes]]:
        """Group rows per topic (keeping their order) into batches under max_message_bytes."""
        by_topic: dict[str, list[list[Row]]] = {}
        sizes: dict[str, int] = {}
        for row in rows:
            batches = by_topic.setdefault(row.topic, [[]])
            extra = len(row.sample.encode()) + 1
            if batches[-1] and sizes[row.topic] + extra > self.config.max_message_bytes:
                batches.append([])
                sizes[row.topic] = _ENVELOPE
            sizes[row.topic] = sizes.get(row.topic, _ENVELOPE) + extra
            batches[-1].append(row)
        return [
            (
                _Message(topic=topic, row_ids=tuple(row.id for row in batch)),
                ('{"samples":[' + ",".join(row.sample for row in batch) + "]}").encode(),
            )
            for topic, batches in by_topic.items()
            for batch in batches
        ]

    def _fits(self, record: Record) -> bool:
        """Whether the sample alone fits in one message (with room for the largest possible seq)."""
        fields = json.dumps(record.fields, separators=(",", ":"), allow_nan=False)
        return len(fields.encode()) + _SEQ_ROOM + _ENVELOPE <= self.config.max_message_bytes

    def _check_fill(self) -> None:
        fill = self.buffer.bytes / self.config.max_buffer_bytes
        if fill >= WARN_FRACTION and not self._above_warning:
            self._above_warning = True
            logger.warning(
                "ALARM buffer at %.0f %% of max_buffer_mb %g: the broker is not taking the backlog; "
                "new observations are refused at 100 %%",
                fill * 100,
                self.config.max_buffer_mb,
            )
        elif fill < WARN_FRACTION and self._above_warning:
            self._above_warning = False
            logger.info("buffer back below %.0f %% of max_buffer_mb", WARN_FRACTION * 100)


def describe(backlog: Backlog, config: GatewayConfig) -> str:
    oldest = "none" if backlog.oldest_age is None else f"{backlog.oldest_age:.0f} s"
    return (
        f"{backlog.rows} row(s), {backlog.bytes} bytes ({100 * backlog.bytes / config.max_buffer_bytes:.1f} % of "
        f"max_buffer_mb {config.max_buffer_mb:g}), oldest {oldest}, {backlog.streams} stream(s), "
        f"{backlog.refused} refused in total, file {backlog.file_bytes} bytes"
    )
