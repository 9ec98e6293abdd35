"""The MQTT ingest worker: Sparkplug B and the JSON topic tree into the sample table, losing nothing.

Delivery guarantee. The worker keeps a persistent session (fixed client id, clean_session off) with
QoS 1 subscriptions and acknowledges a message only after the transaction holding its rows (or its
dead letter) has committed. A worker killed at any moment therefore leaves every unacknowledged
message with the broker, which delivers it again to the next worker under the same client id;
storage is idempotent on (machine, stream, sequence), so the second copy is counted as a duplicate.

Messages are taken in batches (up to `max_batch` messages, at most `max_wait` seconds after the
first) and each batch is one transaction. A message that cannot be decoded is dead-lettered with its
raw bytes and acknowledged like any other: a bad publisher never blocks the stream.

`ingest_payloads` is the same pipeline without a broker, for the simulator behind `make run`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import QuerySet
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from apps.machines.machine_state import ALARM_METRIC, CONDITION_PREFIX, RULE_METRICS, Reading
from apps.machines.selectors import offline_after
from apps.machines.services import apply_readings
from apps.telemetry import topics
from apps.telemetry.models import DeadLetter
from apps.telemetry.observations import Block, Gap, MalformedMessage, Observation
from apps.telemetry.sparkplug import SparkplugSessions, rebirth_command
from apps.telemetry.sparkplug.topic import NAMESPACE
from apps.telemetry.storage import StoredCounts, WorkCenterCodes, as_blocks, store

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = (f"{NAMESPACE}/#", f"{topics.ROOT}/#")
MAX_BATCH = 500
MAX_WAIT = 0.2  # seconds a batch stays open after its first message
IDLE_FLUSH = 0.02  # a batch is also closed when nothing arrived for this long
RECONNECT_MIN, RECONNECT_MAX = 1, 60  # seconds, doubled on every failed attempt
CONNECT_TIMEOUT = 10.0
ONE_SECOND = timedelta(seconds=1)
SOURCE = "mqtt"

OnStored = Callable[[Sequence[Observation]], None]


def update_machine_states(observations: Sequence[Observation]) -> None:
    """The pipeline's next stage after storage: each machine's derived state, alarms and live push."""
    apply_readings(state_readings(observations, offline_after()))


def _drives_state(metric: str) -> bool:
    """Whether `fold` reads the value of this metric (the others only move `last_seen` and the extra signals)."""
    return metric in RULE_METRICS or metric == ALARM_METRIC or metric.startswith(CONDITION_PREFIX)


def state_readings(observations: Sequence[Observation], silence: timedelta) -> list[Reading]:
    """The readings `apply_readings` needs to reach the same state as with every observation of the batch.

    A fast signal (a spindle load at 1 kHz) would otherwise be folded sample by sample. Per machine, in
    the time order `apply_readings` uses, a reading is kept when its metric drives the state (every
    execution, alarm or condition change counts), when it is the first or the last of its metric in the
    batch (the first keeps the order in which new extra signals are taken up, the last is the value that
    stays), when it is the machine's first reading in its UTC second (so a calendar boundary, which falls
    on a whole second, is crossed at the same reading), or when dropping it would leave `silence` or more
    between two kept readings (so offline stretches start at the same moment). What is left out changes
    only `last_seen` in between: the derived states, intervals, alarms and final signals are the same.
    """
    by_machine: dict[str, list[Observation]] = {}
    for observation in observations:
        by_machine.setdefault(observation.machine, []).append(observation)
    readings: list[Reading] = []
    for items in by_machine.values():
        items.sort(key=_timestamp_of)
        ends: set[int] = set()
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.metric not in seen:
                ends.add(index)
            seen[item.metric] = index
        ends.update(seen.values())
        drives = {metric: _drives_state(metric) for metric in seen}
        last = len(items) - 1
        kept_at = next_second = items[0].timestamp
        for index, item in enumerate(items):
            moment = item.timestamp
            new_second = moment >= next_second
            if new_second:
                next_second = moment.replace(microsecond=0) + ONE_SECOND
            if (
                new_second
                or index in ends
                or drives[item.metric]
                or (index < last and items[index + 1].timestamp - kept_at >= silence)
            ):
                readings.append(Reading(item.machine, moment, item.metric, item.value))
                kept_at = moment
    return readings


def _timestamp_of(observation: Observation) -> datetime:
    return observation.timestamp


@dataclass(frozen=True, slots=True)
class Inbound:
    """One received message; `mid` and `generation` identify it for the acknowledgement (0: nothing to ack)."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    generation: int = 0


@dataclass(frozen=True, slots=True)
class Part:
    """What one message decoded to, kept apart so a batch that fails can be committed message by message.

    `observations` is every sample (the machine state reads them all). A Sparkplug message (`blockable`)
    is stored with its evenly spaced runs as blocks, see `storage.as_blocks`; any other as rows.
    """

    message: Inbound
    observations: list[Observation]
    gaps: list[Gap]
    blockable: bool = False

    def storage_form(self) -> tuple[list[Observation], list[Block]]:
        """(rows, blocks) to store; cut at commit time, so a decode that stores nothing pays nothing."""
        return as_blocks(self.observations) if self.blockable else (self.observations, [])


@dataclass(slots=True)
class Decoded:
    parts: list[Part] = field(default_factory=list)
    rebirths: list[tuple[str, str]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    unresolved: int = 0

    @property
    def observations(self) -> list[Observation]:
        return [observation for part in self.parts for observation in part.observations]

    @property
    def gaps(self) -> list[Gap]:
        return [gap for part in self.parts for gap in part.gaps]

    def storage_form(self) -> tuple[list[Observation], list[Block]]:
        """Every part's (rows, blocks), joined."""
        rows: list[Observation] = []
        blocks: list[Block] = []
        for part in self.parts:
            part_rows, part_blocks = part.storage_form()
            rows += part_rows
            blocks += part_blocks
        return rows, blocks


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one batch did: its stored counts, dead letters, and the NCMD rebirths to publish (topic, payload)."""

    messages: int
    stored: StoredCounts
    dead_letters: int
    observations: list[Observation]
    rebirths: list[tuple[str, bytes]]


class MessageDecoder:
    """Sparkplug sessions plus the JSON tree behind one entry point; one per worker (it is stateful)."""

    def __init__(self, work_centers: WorkCenterCodes | None = None) -> None:
        self.work_centers = work_centers or WorkCenterCodes()
        self.sparkplug = SparkplugSessions()

    def decode_into(self, message: Inbound, decoded: Decoded) -> None:
        """Add the message's observations to `decoded`, or its dead letter when it is malformed."""
        try:
            if message.topic.startswith(f"{NAMESPACE}/"):
                result = self.sparkplug.decode(
                    message.topic, message.payload, received_at=message.received_at, known_machines=self.work_centers
                )
                decoded.parts.append(Part(message, result.observations, result.gaps, blockable=True))
                decoded.unresolved += result.unresolved
                if result.rebirth is not None:
                    decoded.rebirths.append(result.rebirth)
            else:
                observations = topics.decode_json(
                    message.topic, message.payload, message.received_at, self.work_centers
                )
                decoded.parts.append(Part(message, observations, []))
        except MalformedMessage as exc:
            decoded.dead.append(dead_letter(message, exc.reason, str(exc)))


def dead_letter(message: Inbound, reason: str, text: str) -> DeadLetter:
    return DeadLetter(
        received_at=message.received_at,
        source=SOURCE,
        topic=message.topic[:1024],
        reason=reason,
        message=text,
        payload=message.payload,
        size=len(message.payload),
    )


def process_batch(messages: Sequence[Inbound], decoder: MessageDecoder) -> BatchOutcome:
    """Decode a batch and commit its samples, gaps and dead letters in one transaction."""
    decoded = Decoded()
    for message in messages:
        decoder.decode_into(message, decoded)
    return commit_batch(messages, decoded, decoder.work_centers)


def commit_batch(messages: Sequence[Inbound], decoded: Decoded, work_centers: WorkCenterCodes) -> BatchOutcome:
    """One transaction for the batch; if a machine vanished since decoding, message by message instead."""
    try:
        rows, blocks = decoded.storage_form()
        with transaction.atomic():
            counts = store(rows, decoded.gaps, blocks=blocks, work_centers=work_centers)
            if decoded.dead:
                DeadLetter.objects.bulk_create(decoded.dead)
        stored_parts = decoded.parts
    except (MalformedMessage, IntegrityError):
        work_centers.reload()
        counts, stored_parts = _commit_one_by_one(decoded, work_centers)
    now = datetime.now(UTC)
    return BatchOutcome(
        messages=len(messages),
        stored=counts,
        dead_letters=len(messages) - len(stored_parts),
        observations=[observation for part in stored_parts for observation in part.observations],
        rebirths=[rebirth_command(group, node, now=now) for group, node in dict.fromkeys(decoded.rebirths)],
    )


def _commit_one_by_one(decoded: Decoded, work_centers: WorkCenterCodes) -> tuple[StoredCounts, list[Part]]:
    inserted = duplicates = 0
    stored: list[Part] = []
    dead = list(decoded.dead)
    for part in decoded.parts:
        rows, blocks = part.storage_form()
        try:
            with transaction.atomic():
                counts = store(rows, part.gaps, blocks=blocks, work_centers=work_centers)
        except (MalformedMessage, IntegrityError) as exc:
            dead.append(dead_letter(part.message, getattr(exc, "reason", "unknown_machine"), str(exc)))
            continue
        inserted, duplicates = inserted + counts.inserted, duplicates + counts.duplicates
        stored.append(part)
    DeadLetter.objects.bulk_create(dead)
    return StoredCounts(inserted, duplicates), stored


_default_decoder: MessageDecoder | None = None


def ingest_payloads(
    messages: Iterable[tuple[str, bytes]],
    *,
    decoder: MessageDecoder | None = None,
    received_at: datetime | None = None,
) -> BatchOutcome:
    """The broker-less path: (topic, payload) pairs through the same decoding, storage and dead letter.

    The simulator calls this directly when no MQTT broker is configured. Without `decoder` a
    process-wide one is used, so Sparkplug births seen in one call resolve aliases in the next.
    The caller publishes or ignores `rebirths`.
    """
    global _default_decoder
    if decoder is None:
        _default_decoder = _default_decoder or MessageDecoder()
        decoder = _default_decoder
    moment = received_at or datetime.now(UTC)
    outcome = process_batch([Inbound(topic, payload, moment) for topic, payload in messages], decoder)
    if outcome.observations:
        update_machine_states(outcome.observations)
    return outcome


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    stored: int
    failed: int


def replay_dead_letters(dead_letters: QuerySet[DeadLetter]) -> ReplayOutcome:
    """Decode the selected dead letters again, now that the cause (an unknown machine, say) may be fixed.

    Each one is replayed with a fresh Sparkplug session: a BIRTH or a JSON message stores, a Sparkplug
    DATA cannot be read without the BIRTH it refers to and stays. A replayed message's row is deleted;
    one that still fails keeps its row with the new reason.
    """
    decoder = MessageDecoder()
    stored = failed = 0
    for letter in dead_letters.order_by("received_at", "id"):
        message = Inbound(letter.topic, bytes(letter.payload), datetime.now(UTC))
        decoded = Decoded()
        decoder.decode_into(message, decoded)
        if not decoded.dead and decoded.unresolved:
            decoded.dead.append(dead_letter(message, "unresolved", "a Sparkplug DATA needs its BIRTH to be read"))
        with transaction.atomic():
            if decoded.dead:
                DeadLetter.objects.filter(pk=letter.pk).update(
                    reason=decoded.dead[0].reason, message=decoded.dead[0].message
                )
                failed += 1
                continue
            rows, blocks = decoded.storage_form()
            try:
                store(rows, decoded.gaps, blocks=blocks, work_centers=decoder.work_centers)
            except MalformedMessage as exc:
                DeadLetter.objects.filter(pk=letter.pk).update(reason=exc.reason, message=str(exc))
                failed += 1
                continue
            letter.delete()
            stored += 1
    return ReplayOutcome(stored=stored, failed=failed)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """mqtt://[user:password@]host[:1883] or mqtts://... (TLS, port 8883 by default)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ValueError(f"{url!r} is not an mqtt:// or mqtts:// URL")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def forget_session(broker_url: str, client_id: str) -> None:
    """End the broker's persistent session of `client_id` (and its queue): for benchmarks and tests only."""
    address = BrokerAddress.parse(broker_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    client.connect(address.host, address.port)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


class IngestWorker:
    """One MQTT consumer: a paho network thread receives, the calling thread decodes, stores and acks.

    Not thread-safe beyond that split: `run()` (or `poll()`) is called from one thread only.
    """

    def __init__(
        self,
        broker_url: str,
        client_id: str,
        on_stored: OnStored | None = update_machine_states,
        *,
        subscriptions: Sequence[str] = SUBSCRIPTIONS,
        max_batch: int = MAX_BATCH,
        max_wait: float = MAX_WAIT,
        decoder: MessageDecoder | None = None,
    ) -> None:
        self.address = BrokerAddress.parse(broker_url)
        self.client_id = client_id
        self.on_stored = on_stored
        self.subscriptions = tuple(subscriptions)
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.decoder = decoder or MessageDecoder()
        self.stored = StoredCounts(0, 0)
        self.messages = 0
        self.batches = 0
        self.dead_letters = 0
        self._inbox: queue.Queue[Inbound] = queue.Queue()
        self._generation = 0
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if self.address.username is not None:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=RECONNECT_MIN, max_delay=RECONNECT_MAX)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # --- paho network thread ---------------------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.warning("MQTT broker %s refused the connection: %s", self.address.host, reason)
            return
        # Acks carry packet ids of one connection: messages received before this one are redelivered.
        self._generation += 1
        logger.info(
            "connected to MQTT broker %s:%s as %s (session present: %s)",
            self.address.host,
            self.address.port,
            self.client_id,
            flags.session_present,
        )
        client.subscribe([(topic, 1) for topic in self.subscriptions])

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        if not self._stop.is_set():
            logger.warning(
                "lost the MQTT broker (%s); reconnecting with back-off from %s s to %s s",
                reason,
                RECONNECT_MIN,
                RECONNECT_MAX,
            )

    def _on_subscribe(
        self, client: mqtt.Client, userdata: object, mid: int, reasons: list[ReasonCode], props: Properties
    ) -> None:
        refused = [str(code) for code in reasons if code.is_failure]
        if refused:
            logger.error("MQTT subscription refused: %s", ", ".join(refused))
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(
            Inbound(message.topic, bytes(message.payload), datetime.now(UTC), message.mid, self._generation)
        )

    # --- the worker's own thread -----------------------------------------------------------------

    def start(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect, subscribe and start the network thread; OSError/TimeoutError when the broker is not there."""
        self._client.connect(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self._client.loop_stop()
            raise TimeoutError(f"MQTT broker {self.address.host}:{self.address.port} did not confirm subscriptions")

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._client.disconnect()
        self._client.loop_stop()

    def _next_batch(self, timeout: float) -> list[Inbound]:
        try:
            first = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=min(remaining, IDLE_FLUSH)))
            except queue.Empty:
                break
        return batch

    def poll(self, timeout: float = 1.0) -> BatchOutcome | None:
        """Take one batch (waiting up to `timeout` for its first message), commit it, then acknowledge it."""
        batch = self._next_batch(timeout)
        if not batch:
            return None
        decoded = Decoded()
        for message in batch:
            self.decoder.decode_into(message, decoded)
        outcome = self._commit(batch, decoded)
        for message in batch:
            if message.mid and message.generation == self._generation:
                self._client.ack(message.mid, 1)
        for topic, payload in outcome.rebirths:
            logger.info("requesting a Sparkplug rebirth: %s", topic)
            self._client.publish(topic, payload, qos=0)
        self.stored = StoredCounts(
            self.stored.inserted + outcome.stored.inserted, self.stored.duplicates + outcome.stored.duplicates
        )
        self.dead_letters += outcome.dead_letters
        self.batches += 1
        self.messages += outcome.messages
        if self.on_stored is not None and outcome.observations:
            self.on_stored(outcome.observations)
        return outcome

    def _commit(self, batch: list[Inbound], decoded: Decoded) -> BatchOutcome:
        """Commit, retrying with back-off while the database is away: unacked messages must not be dropped."""
        delay = RECONNECT_MIN
        while True:
            try:
                return commit_batch(batch, decoded, self.decoder.work_centers)
            except DatabaseError:
                if self._stop.is_set():
                    raise
                logger.exception("could not store a batch of %s messages; retrying in %s s", len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)

    def run(self) -> None:
        """Consume until stop() is called (a signal handler may call it), then disconnect."""
        try:
            while not self._stop.is_set():
                self.poll(timeout=0.5)
        finally:
            self.close()
