"""The ingest pipeline: decoding + storage + dead letter, in process and through the real Mosquitto broker."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from paho.mqtt.enums import CallbackAPIVersion

from apps.telemetry import ingest
from apps.telemetry.admin import payload_preview
from apps.telemetry.ingest import (
    BrokerAddress,
    Inbound,
    IngestWorker,
    MessageDecoder,
    ingest_payloads,
    replay_dead_letters,
)
from apps.telemetry.models import DeadLetter, Sample, SampleBlock, StreamGap
from apps.telemetry.observations import Observation
from apps.telemetry.sparkplug import DataType, MetricSample, encode_payload, parse_payload
from apps.telemetry.storage import StoredCounts
from tests.machines.shop import work_center

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
NOW_MS = int(NOW.timestamp() * 1000)
WAIT = 15.0  # seconds any broker round trip may take before a test fails


def broker_url() -> str:
    return getattr(settings, "MQTT_URL", "") or "mqtt://127.0.0.1:1883"


def json_samples(first: int, count: int, value: float = 1.5) -> bytes:
    return json.dumps(
        {"samples": [{"seq": n, "ts": NOW_MS + n, "value": value} for n in range(first, first + count)]}
    ).encode()


def node_birth(seq: int = 0, bd: int = 1) -> bytes:
    return encode_payload(
        [
            MetricSample(name="bdSeq", datatype=DataType.Int64, value=bd),
            MetricSample(name="Spindle/Speed", alias=1, datatype=DataType.Double, value=1200.0),
        ],
        timestamp=NOW,
        seq=seq,
    )


def node_data(seq: int, speed: float) -> bytes:
    metric = MetricSample(alias=1, datatype=DataType.Double, value=speed, send_datatype=False)
    return encode_payload([metric], timestamp=NOW + timedelta(seconds=seq), seq=seq)


def publish(messages: list[tuple[str, bytes]]) -> None:
    """QoS 1 publishing that returns only when the broker has every message."""
    address = BrokerAddress.parse(broker_url())
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=WAIT)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def forget_session(client_id: str) -> None:
    ingest.forget_session(broker_url(), client_id)


@pytest.fixture
def run_id() -> Iterator[str]:
    """A per-run topic prefix and client id, so parallel runs and leftovers never meet."""
    run = f"t{uuid.uuid4().hex[:10]}"
    yield run
    forget_session(f"ingest-{run}")


def worker_for(run: str, **options: Any) -> IngestWorker:
    return IngestWorker(
        broker_url(), f"ingest-{run}", subscriptions=[f"shopfloor/{run}/#", f"spBv1.0/{run}/#"], **options
    )


def poll_until(worker: IngestWorker, rows: int) -> None:
    deadline = time.monotonic() + WAIT
    while Sample.objects.count() < rows and time.monotonic() < deadline:
        worker.poll(timeout=0.2)


# --- in process ----------------------------------------------------------------------------------


def test_every_malformed_kind_is_dead_lettered_and_the_valid_traffic_is_stored() -> None:
    work_center("WC-101")
    good = json_samples(0, 3)
    malformed = {
        "bad_topic": ("shopfloor/milling/WC-101", good),
        "oversize": ("shopfloor/milling/WC-101/load", b" " * (256 * 1024 + 1)),
        "bad_protobuf": ("spBv1.0/plant/NDATA/WC-101", b"\xff\xff not protobuf"),
        "bad_json": ("shopfloor/milling/WC-101/load", b'{"samples": [{"seq": 1}]}'),
        "wrong_type": ("shopfloor/milling/WC-101/load", b'{"seq": -1, "ts": 0, "value": 1}'),
        "not_finite": ("shopfloor/milling/WC-101/load", b'{"seq": 1, "ts": 0, "value": NaN}'),
        "future_timestamp": ("shopfloor/milling/WC-101/load", b'{"seq": 1, "ts": "2999-01-01T00:00:00Z", "value": 1}'),
        "unknown_machine": ("shopfloor/milling/WC-999/load", good),
    }
    batch = [("shopfloor/milling/WC-101/load", good), *malformed.values(), ("shopfloor/milling/WC-101/feed", good)]

    outcome = ingest_payloads(batch, decoder=MessageDecoder(), received_at=NOW)

    assert (outcome.messages, outcome.stored, outcome.dead_letters) == (10, StoredCounts(6, 0), 8)
    assert list(Sample.objects.order_by("metric", "sequence").values_list("metric", "sequence", "value_number")) == [
        ("feed", 0, 1.5),
        ("feed", 1, 1.5),
        ("feed", 2, 1.5),
        ("load", 0, 1.5),
        ("load", 1, 1.5),
        ("load", 2, 1.5),
    ]
    letters = {letter.reason: letter for letter in DeadLetter.objects.all()}
    assert sorted(letters) == sorted(malformed)
    for reason, (topic, payload) in malformed.items():
        letter = letters[reason]
        assert (letter.source, letter.topic, bytes(letter.payload), letter.size) == (
            "mqtt",
            topic,
            payload,
            len(payload),
        )
        assert letter.received_at == NOW
    assert letters["unknown_machine"].message == "shopfloor/milling/WC-999/load: 'WC-999' is not a known machine"


def test_a_redelivered_batch_is_counted_as_duplicates() -> None:
    work_center("WC-101")
    batch = [("shopfloor/milling/WC-101/load", json_samples(0, 4))]
    decoder = MessageDecoder()
    assert ingest_payloads(batch, decoder=decoder, received_at=NOW).stored == StoredCounts(4, 0)
    assert ingest_payloads(batch, decoder=decoder, received_at=NOW).stored == StoredCounts(0, 4)
    assert Sample.objects.count() == 4


def test_sparkplug_births_data_rebirth_and_gaps_in_process() -> None:
    work_center("WC-101")
    decoder = MessageDecoder()
    early = ingest_payloads([("spBv1.0/plant/NDATA/WC-101", node_data(5, 1.0))], decoder=decoder, received_at=NOW)
    assert [topic for topic, _ in early.rebirths] == ["spBv1.0/plant/NCMD/WC-101"]
    assert early.stored == StoredCounts(0, 0)

    born = ingest_payloads(
        [
            ("spBv1.0/plant/NBIRTH/WC-101", node_birth()),
            ("spBv1.0/plant/NDATA/WC-101", node_data(1, 1300.0)),
            ("spBv1.0/plant/NDATA/WC-101", node_data(3, 1400.0)),
        ],
        decoder=decoder,
        received_at=NOW + timedelta(seconds=30),
    )

    assert born.stored == StoredCounts(4, 0)
    assert list(Sample.objects.order_by("sequence").values_list("metric", "value_number", "value_text")) == [
        ("availability", None, "AVAILABLE"),
        ("Spindle/Speed", 1200.0, None),
        ("Spindle/Speed", 1300.0, None),
        ("Spindle/Speed", 1400.0, None),
    ]
    assert list(StreamGap.objects.values_list("stream", "reason")) == [
        ("spb:plant/WC-101/:1", "sparkplug seq jumped from 1 to 3 (expected 2)")
    ]
    assert [topic for topic, _ in born.rebirths] == ["spBv1.0/plant/NCMD/WC-101"]


def waveform(seq: int, count: int) -> bytes:
    """An NDATA of `count` historical Spindle/Speed values 1 ms apart, as a 1 kHz sensor sends them."""
    first = NOW + timedelta(seconds=seq)
    metrics = [
        MetricSample(
            alias=1,
            datatype=DataType.Double,
            value=1000.0 + n / 8,
            timestamp=first + timedelta(milliseconds=n),
            is_historical=True,
            send_datatype=False,
        )
        for n in range(count)
    ]
    return encode_payload(metrics, timestamp=first + timedelta(milliseconds=count), seq=seq)


def test_a_sparkplug_waveform_is_stored_as_one_block_and_once() -> None:
    machine = work_center("WC-101")
    decoder = MessageDecoder()
    ingest_payloads([("spBv1.0/plant/NBIRTH/WC-101", node_birth())], decoder=decoder, received_at=NOW)
    data = [("spBv1.0/plant/NDATA/WC-101", waveform(1, 200))]

    first = ingest_payloads(data, decoder=decoder, received_at=NOW + timedelta(seconds=2))
    again = ingest_payloads(data, decoder=decoder, received_at=NOW + timedelta(seconds=3))

    assert (first.stored, again.stored) == (StoredCounts(200, 0), StoredCounts(0, 200))
    block = SampleBlock.objects.get()
    assert (block.metric, block.count, block.interval_us, block.start) == (
        "Spindle/Speed",
        200,
        1000,
        NOW + timedelta(seconds=1),
    )
    assert list(block.values) == [1000.0 + n / 8 for n in range(200)]
    assert Sample.objects.filter(metric="Spindle/Speed").count() == 1  # the birth's value, a single sample
    assert len(first.observations) == 200  # the machine state still sees every value
    machine.live_state.refresh_from_db()
    assert ["Spindle/Speed", 1000.0 + 199 / 8] in machine.live_state.signals["extra"]


def test_replay_stores_a_dead_letter_once_its_machine_exists() -> None:
    batch = [("shopfloor/milling/WC-300/load", json_samples(0, 2)), ("spBv1.0/plant/NDATA/WC-300", node_data(1, 2.0))]
    ingest_payloads(batch, decoder=MessageDecoder(), received_at=NOW)
    assert sorted(DeadLetter.objects.values_list("reason", flat=True)) == ["unknown_machine"]
    work_center("WC-300")

    outcome = replay_dead_letters(DeadLetter.objects.all())

    assert (outcome.stored, outcome.failed) == (1, 0)
    assert DeadLetter.objects.count() == 0
    assert Sample.objects.count() == 2


def test_replaying_a_sparkplug_data_without_its_birth_keeps_it() -> None:
    work_center("WC-300")
    letter = DeadLetter.objects.create(
        received_at=NOW,
        source="mqtt",
        topic="spBv1.0/plant/NDATA/WC-300",
        reason="wrong_type",
        message="old",
        payload=node_data(1, 2.0),
        size=1,
    )
    assert replay_dead_letters(DeadLetter.objects.all()).failed == 1
    letter.refresh_from_db()
    assert (letter.reason, letter.message) == ("unresolved", "a Sparkplug DATA needs its BIRTH to be read")


def test_the_admin_preview_shows_json_as_text_and_protobuf_as_hex() -> None:
    assert payload_preview(b'{"seq": 1}') == '{"seq": 1}'
    assert payload_preview(b"\x08\x01\xff") == "00000000  08 01 ff" + " " * 39 + "  ..."


def test_on_stored_sees_what_was_committed() -> None:
    work_center("WC-101")
    seen: list[Observation] = []
    worker = IngestWorker("mqtt://127.0.0.1:1", "unused", on_stored=seen.extend)
    worker._inbox.put(Inbound("shopfloor/milling/WC-101/load", json_samples(7, 1), NOW))
    outcome = worker.poll(timeout=0)
    assert outcome is not None
    assert [(o.sequence, o.value) for o in seen] == [(7, 1.5)]
    assert (worker.stored, worker.dead_letters) == (StoredCounts(1, 0), 0)


def test_broker_urls() -> None:
    assert BrokerAddress.parse("mqtt://u%40x:p@broker:1884") == BrokerAddress("broker", 1884, False, "u@x", "p")
    assert BrokerAddress.parse("mqtts://broker") == BrokerAddress("broker", 8883, True, None, None)
    with pytest.raises(ValueError, match="'http://broker' is not an mqtt:// or mqtts:// URL"):
        BrokerAddress.parse("http://broker")


def test_run_ingest_needs_a_broker(settings: Any) -> None:
    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="No MQTT broker configured: set MQTT_URL"):
        call_command("run_ingest")
    with pytest.raises(CommandError, match="MQTT broker 127.0.0.1:1 is not reachable"):
        call_command("run_ingest", "--broker", "mqtt://127.0.0.1:1")


# --- through Mosquitto ---------------------------------------------------------------------------


def test_the_worker_stores_exactly_what_was_published(run_id: str) -> None:
    work_center("WC-101")
    worker = worker_for(run_id)
    worker.start()
    try:
        json_messages = [(f"shopfloor/{run_id}/WC-101/load", json_samples(n * 10, 10)) for n in range(20)]
        sparkplug = [
            (f"spBv1.0/{run_id}/NBIRTH/WC-101", node_birth()),
            *[(f"spBv1.0/{run_id}/NDATA/WC-101", node_data(n, float(n))) for n in range(1, 11)],
        ]
        publish(json_messages + sparkplug)
        poll_until(worker, 200 + 2 + 10)
    finally:
        worker.close()
    assert Sample.objects.filter(stream=f"json:{run_id}/WC-101/load").count() == 200
    assert Sample.objects.filter(stream=f"spb:{run_id}/WC-101/:1").count() == 12
    assert Sample.objects.count() == 212
    assert (worker.stored, worker.dead_letters) == (StoredCounts(212, 0), 0)


def test_unacknowledged_messages_come_back_and_acknowledged_ones_do_not(run_id: str) -> None:
    work_center("WC-101")
    first = worker_for(run_id)
    first.start()
    publish([(f"shopfloor/{run_id}/WC-101/load", json_samples(n * 5, 5)) for n in range(6)])
    deadline = time.monotonic() + WAIT
    while first._inbox.qsize() < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first._inbox.qsize() == 6
    first.close()  # received, never stored, never acknowledged: as if the worker had crashed
    assert Sample.objects.count() == 0

    second = worker_for(run_id)
    second.start()
    try:
        poll_until(second, 30)
    finally:
        second.close()
    assert Sample.objects.count() == 30

    third = worker_for(run_id)
    third.start()
    try:
        assert third.poll(timeout=1.0) is None
    finally:
        third.close()


def test_a_malformed_message_through_the_broker_is_acknowledged_and_does_not_block(run_id: str) -> None:
    work_center("WC-101")
    worker = worker_for(run_id)
    worker.start()
    try:
        publish(
            [
                (f"shopfloor/{run_id}/WC-101/load", b"not json"),
                (f"shopfloor/{run_id}/WC-101/load", json_samples(0, 3)),
            ]
        )
        poll_until(worker, 3)
    finally:
        worker.close()
    assert Sample.objects.count() == 3
    assert list(DeadLetter.objects.values_list("reason", "topic", "payload")) == [
        ("bad_json", f"shopfloor/{run_id}/WC-101/load", b"not json")
    ]
    again = worker_for(run_id)
    again.start()
    try:
        assert again.poll(timeout=1.0) is None
    finally:
        again.close()


def test_the_worker_asks_a_node_it_does_not_know_for_a_rebirth(run_id: str) -> None:
    work_center("WC-101")
    address = BrokerAddress.parse(broker_url())
    commands: list[tuple[str, bytes]] = []
    received = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-ncmd-{run_id}")

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        commands.append((message.topic, bytes(message.payload)))
        received.set()

    listener.on_message = on_message
    listener.connect(address.host, address.port)
    listener.subscribe(f"spBv1.0/{run_id}/NCMD/#", qos=1)
    listener.loop_start()
    worker = worker_for(run_id)
    worker.start()
    try:
        publish([(f"spBv1.0/{run_id}/NDATA/WC-101", node_data(7, 1.0))])
        deadline = time.monotonic() + WAIT
        while not received.is_set() and time.monotonic() < deadline:
            worker.poll(timeout=0.1)
    finally:
        worker.close()
        listener.disconnect()
        listener.loop_stop()
    assert [topic for topic, _ in commands] == [f"spBv1.0/{run_id}/NCMD/WC-101"]
    command = parse_payload(commands[0][1])
    assert [(metric.name, metric.boolean_value) for metric in command.metrics] == [("Node Control/Rebirth", True)]
    assert Sample.objects.count() == 0
