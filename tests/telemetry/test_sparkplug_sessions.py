"""SparkplugSessions: births, aliases, seq, deaths, redelivery keys and every rejection reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from apps.telemetry.observations import Gap, MalformedMessage, Observation
from apps.telemetry.sparkplug import (
    DataType,
    HostState,
    MetricSample,
    SparkplugResult,
    SparkplugSessions,
    encode_payload,
    encode_state,
    rebirth_command,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NOW_MS = 1_795_334_400_000
F = 8192  # sequence = message_key * F + index
KNOWN = frozenset({"WC-101", "WC-102", "WC-200"})
NODE = "spBv1.0/plant1/{kind}/edge1"
DEVICE = "spBv1.0/plant1/{kind}/edge1/{device}"
S101 = "spb:plant1/edge1/WC-101:4"
S102 = "spb:plant1/edge1/WC-102:4"


def key(seq: int, at: datetime = NOW) -> int:
    return (int(at.timestamp() * 1000) * 256 + seq) * F


def after(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def bd_seq(value: int) -> MetricSample:
    return MetricSample(name="bdSeq", datatype=DataType.Int64, value=value)


SPEED = MetricSample(name="Spindle/Speed", alias=1, datatype=DataType.Double, value=1200.0)
PROGRAM = MetricSample(name="Program", alias=2, datatype=DataType.String, value="O1000")


def node_birth(seq: int = 0, bd: int = 4, at: datetime = NOW, extra: Sequence[MetricSample] = ()) -> bytes:
    rebirth = MetricSample(name="Node Control/Rebirth", alias=100, datatype=DataType.Boolean, value=False)
    return encode_payload([bd_seq(bd), rebirth, *extra], timestamp=at, seq=seq)


def device_data(seq: int, at: datetime, *metrics: MetricSample) -> bytes:
    return encode_payload(metrics, timestamp=at, seq=seq)


def by_alias(alias: int, datatype: int, value: object, **options: object) -> MetricSample:
    return MetricSample(alias=alias, datatype=datatype, value=value, send_datatype=False, **options)  # type: ignore[arg-type]


class Edge:
    """A tiny edge node: publishes into a SparkplugSessions and returns what it decoded."""

    def __init__(self, sessions: SparkplugSessions | None = None) -> None:
        self.sessions = sessions or SparkplugSessions()

    def send(
        self, kind: str, payload: bytes, device: str | None = None, received_at: datetime | None = None
    ) -> SparkplugResult:
        topic = NODE.format(kind=kind) if device is None else DEVICE.format(kind=kind, device=device)
        return self.sessions.decode(
            topic, payload, received_at=received_at or NOW + timedelta(seconds=30), known_machines=KNOWN
        )

    def born(self) -> None:
        """NBIRTH (bdSeq 4, seq 0) and a DBIRTH (seq 1) for WC-101 with Spindle/Speed=1 and Program=2."""
        self.send("NBIRTH", node_birth())
        self.send("DBIRTH", encode_payload([SPEED, PROGRAM], timestamp=NOW, seq=1), "WC-101")


def reason_of(edge: Edge, kind: str, payload: bytes, device: str | None = None, **options: object) -> str:
    with pytest.raises(MalformedMessage) as caught:
        edge.send(kind, payload, device, **options)  # type: ignore[arg-type]
    return caught.value.reason


def test_gateway_birth_then_device_birth() -> None:
    edge = Edge()
    nbirth = edge.send("NBIRTH", node_birth())
    assert (nbirth.observations, nbirth.rebirth, nbirth.gaps, nbirth.unresolved) == ([], None, [], 0)
    dbirth = edge.send("DBIRTH", encode_payload([SPEED, PROGRAM], timestamp=NOW, seq=1), "WC-101")
    assert dbirth.observations == [
        Observation("WC-101", S101, key(1), NOW, "availability", "AVAILABLE"),
        Observation("WC-101", S101, key(1) + 1, NOW, "Spindle/Speed", 1200.0),
        Observation("WC-101", S101, key(1) + 2, NOW, "Program", "O1000"),
    ]
    assert (dbirth.rebirth, dbirth.duplicate) == (None, False)


def test_alias_only_data_after_birth() -> None:
    edge = Edge()
    edge.born()
    at = after(1)
    result = edge.send(
        "DDATA",
        device_data(2, at, by_alias(2, DataType.String, "O2000"), by_alias(1, DataType.Double, 1350.5)),
        "WC-101",
    )
    assert result.observations == [
        Observation("WC-101", S101, key(2, at) + 1, at, "Program", "O2000"),
        Observation("WC-101", S101, key(2, at) + 2, at, "Spindle/Speed", 1350.5),
    ]
    assert (result.rebirth, result.gaps, result.unresolved) == (None, [], 0)


def test_metric_names_resolve_without_aliases() -> None:
    edge = Edge()
    edge.born()
    named = MetricSample(name="Spindle/Speed", datatype=DataType.Double, value=99.0)
    result = edge.send("DDATA", device_data(2, after(1), named), "WC-101")
    assert [(o.metric, o.value) for o in result.observations] == [("Spindle/Speed", 99.0)]


def test_node_that_is_a_machine_reports_its_own_metrics() -> None:
    edge = Edge()
    count = MetricSample(name="Part Count", alias=5, datatype=DataType.Int32, value=41)
    sessions, topic = edge.sessions, "spBv1.0/plant1/{}/WC-200"
    birth = sessions.decode(topic.format("NBIRTH"), node_birth(extra=[count]), received_at=NOW, known_machines=KNOWN)
    stream = "spb:plant1/WC-200/:4"
    assert birth.observations == [
        Observation("WC-200", stream, key(0), NOW, "availability", "AVAILABLE"),
        Observation("WC-200", stream, key(0) + 3, NOW, "Part Count", 41),
    ]
    data = sessions.decode(
        topic.format("NDATA"),
        device_data(1, after(2), by_alias(5, DataType.Int32, 42)),
        received_at=after(2),
        known_machines=KNOWN,
    )
    assert data.observations == [Observation("WC-200", stream, key(1, after(2)) + 1, after(2), "Part Count", 42)]


def test_seq_wraps_from_255_to_0_without_a_rebirth() -> None:
    edge = Edge()
    edge.born()
    results = [
        edge.send("DDATA", device_data(seq % 256, after(n), by_alias(1, DataType.Double, float(n))), "WC-101")
        for n, seq in enumerate(range(2, 258), start=1)
    ]
    assert [r.rebirth for r in results] == [None] * 256
    assert sum(len(r.gaps) for r in results) == 0
    last_before_wrap, wrapped = results[253], results[254]
    assert last_before_wrap.observations == [
        Observation("WC-101", S101, key(255, after(254)) + 1, after(254), "Spindle/Speed", 254.0)
    ]
    assert wrapped.observations == [
        Observation("WC-101", S101, key(0, after(255)) + 1, after(255), "Spindle/Speed", 255.0)
    ]


def test_seq_gap_requests_a_rebirth_and_records_the_gap() -> None:
    edge = Edge()
    edge.born()
    edge.send("DBIRTH", encode_payload([SPEED], timestamp=NOW, seq=2), "WC-102")
    at = after(5)
    result = edge.send("DDATA", device_data(6, at, by_alias(1, DataType.Double, 1.5)), "WC-101", received_at=at)
    assert result.rebirth == ("plant1", "edge1")
    reason = "sparkplug seq jumped from 2 to 6 (expected 3)"
    assert result.gaps == [
        Gap("WC-101", S101, key(2) + F, key(6, at) - 1, at, reason),
        Gap("WC-102", S102, key(2) + F, key(6, at) - 1, at, reason),
    ]
    # The data itself is kept: the BIRTH definitions are still those of the session.
    assert [o.value for o in result.observations] == [1.5]
    # Asked again only after the rebirth interval, and no more once the NBIRTH arrives.
    soon = edge.send("DDATA", device_data(7, after(6), by_alias(1, DataType.Double, 2.0)), "WC-101", after(6))
    assert (soon.rebirth, soon.gaps) == (None, [])
    later = edge.send("DDATA", device_data(8, after(16), by_alias(1, DataType.Double, 2.0)), "WC-101", after(16))
    assert later.rebirth == ("plant1", "edge1")
    assert edge.send("NBIRTH", node_birth(at=after(17)), received_at=after(17)).rebirth is None
    reborn = edge.send("DBIRTH", encode_payload([SPEED], timestamp=after(17), seq=1), "WC-101", after(40))
    assert reborn.rebirth is None


@pytest.mark.parametrize(("kind", "device"), [("DDATA", "WC-101"), ("NDATA", None), ("DBIRTH", "WC-101")])
def test_data_before_any_birth_requests_a_rebirth(kind: str, device: str | None) -> None:
    edge = Edge()
    metrics = [SPEED, PROGRAM] if kind == "DBIRTH" else [by_alias(1, DataType.Double, 5.0), by_alias(2, 12, "x")]
    result = edge.send(kind, device_data(9, NOW, *metrics), device)
    assert (result.observations, result.rebirth, result.unresolved) == ([], ("plant1", "edge1"), 2)


def test_data_for_a_device_without_birth_requests_a_rebirth() -> None:
    edge = Edge()
    edge.born()
    result = edge.send("DDATA", device_data(2, NOW, by_alias(1, DataType.Double, 5.0)), "WC-102")
    assert (result.observations, result.rebirth, result.unresolved) == ([], ("plant1", "edge1"), 1)


def test_unknown_alias_is_dropped_and_requests_a_rebirth() -> None:
    edge = Edge()
    edge.born()
    result = edge.send(
        "DDATA",
        device_data(2, NOW, by_alias(9, DataType.Double, 5.0), by_alias(1, DataType.Double, 6.0)),
        "WC-101",
    )
    assert [(o.sequence, o.value) for o in result.observations] == [(key(2) + 2, 6.0)]
    assert (result.unresolved, result.rebirth) == (1, ("plant1", "edge1"))


def test_node_death_takes_node_and_devices_offline() -> None:
    edge = Edge()
    edge.born()
    edge.send("DBIRTH", encode_payload([SPEED], timestamp=NOW, seq=2), "WC-102")
    edge.send("DDATA", device_data(3, after(1), by_alias(1, DataType.Double, 7.0)), "WC-101")
    death_at = after(60)
    death = edge.send("NDEATH", encode_payload([bd_seq(4)], timestamp=None, seq=None), received_at=death_at)
    last = key(3, after(1)) + F
    assert death.observations == [
        Observation("WC-101", S101, last, death_at, "availability", "UNAVAILABLE"),
        Observation("WC-102", S102, last, death_at, "availability", "UNAVAILABLE"),
    ]
    assert (death.duplicate, death.rebirth) == (False, None)
    again = edge.send("NDEATH", encode_payload([bd_seq(4)], timestamp=None, seq=None), received_at=after(70))
    assert (again.observations, again.duplicate) == (death.observations, True)
    # Data after the death belongs to no session: the node must be born again.
    late = edge.send("DDATA", device_data(4, after(61), by_alias(1, DataType.Double, 1.0)), "WC-101", after(61))
    assert (late.observations, late.rebirth) == ([], ("plant1", "edge1"))


def test_death_of_an_older_session_is_ignored() -> None:
    edge = Edge()
    edge.born()
    stale = edge.send("NDEATH", encode_payload([bd_seq(3)], timestamp=None, seq=None))
    assert (stale.observations, stale.duplicate) == ([], False)
    data = edge.send("DDATA", device_data(2, after(1), by_alias(1, DataType.Double, 3.0)), "WC-101")
    assert [o.value for o in data.observations] == [3.0]


def test_device_death_takes_only_that_device_offline() -> None:
    edge = Edge()
    edge.born()
    at = after(3)
    death = edge.send("DDEATH", device_data(2, at), "WC-101")
    assert death.observations == [Observation("WC-101", S101, key(2, at), at, "availability", "UNAVAILABLE")]
    data = edge.send("DDATA", device_data(3, after(4), by_alias(1, DataType.Double, 3.0)), "WC-101")
    assert (data.observations, data.rebirth) == ([], ("plant1", "edge1"))


def test_new_session_without_death_closes_the_old_one() -> None:
    edge = Edge()
    edge.born()
    at = after(100)
    birth = edge.send("NBIRTH", node_birth(bd=5, at=at))
    assert birth.observations == [Observation("WC-101", S101, key(1) + F, at, "availability", "UNAVAILABLE")]
    dbirth = edge.send("DBIRTH", encode_payload([SPEED], timestamp=at, seq=1), "WC-101")
    assert dbirth.observations[0] == Observation(
        "WC-101", "spb:plant1/edge1/WC-101:5", key(1, at), at, "availability", "AVAILABLE"
    )


def test_historical_metrics_keep_their_own_timestamps() -> None:
    edge = Edge()
    edge.born()
    hour_ago, minute_ago = NOW - timedelta(hours=1), NOW - timedelta(minutes=1)
    result = edge.send(
        "DDATA",
        device_data(
            2,
            NOW,
            by_alias(1, DataType.Double, 800.0, timestamp=hour_ago, is_historical=True),
            by_alias(1, DataType.Double, 900.0, timestamp=minute_ago, is_historical=True),
        ),
        "WC-101",
    )
    assert result.observations == [
        Observation("WC-101", S101, key(2) + 1, hour_ago, "Spindle/Speed", 800.0),
        Observation("WC-101", S101, key(2) + 2, minute_ago, "Spindle/Speed", 900.0),
    ]


def test_redelivery_yields_the_same_keys() -> None:
    edge = Edge()
    edge.born()
    message = device_data(2, after(1), by_alias(1, DataType.Double, 10.0), by_alias(2, DataType.String, "O7"))
    first = edge.send("DDATA", message, "WC-101")
    edge.send("DDATA", device_data(3, after(2), by_alias(1, DataType.Double, 11.0)), "WC-101")
    again = edge.send("DDATA", message, "WC-101")
    assert again.observations == first.observations
    assert (first.duplicate, again.duplicate, again.rebirth, again.gaps) == (False, True, None, [])
    # The seq position did not move back: the next message is in order.
    nxt = edge.send("DDATA", device_data(4, after(3), by_alias(1, DataType.Double, 12.0)), "WC-101")
    assert (nxt.rebirth, nxt.gaps) == (None, [])
    # A redelivered birth does not reset the session either.
    assert edge.send("NBIRTH", node_birth()).duplicate is True
    assert [
        o.value for o in edge.send("DDATA", device_data(5, after(4), by_alias(1, 10, 1.0)), "WC-101").observations
    ] == [1.0]


def test_redelivered_birth_after_worker_restart_has_the_same_keys() -> None:
    first, restarted = Edge(), Edge()
    first.born()
    restarted.born()
    message = device_data(2, after(1), by_alias(1, DataType.Double, 10.0))
    assert (
        first.send("DDATA", message, "WC-101").observations == restarted.send("DDATA", message, "WC-101").observations
    )


def test_rebirth_restarts_seq_without_reusing_keys() -> None:
    edge = Edge()
    edge.born()
    before = edge.send("DDATA", device_data(2, after(1), by_alias(1, DataType.Double, 1.0)), "WC-101")
    edge.send("NBIRTH", node_birth(at=after(2)))
    edge.send("DBIRTH", encode_payload([SPEED, PROGRAM], timestamp=after(2), seq=1), "WC-101")
    reborn = edge.send("DDATA", device_data(2, after(3), by_alias(1, DataType.Double, 2.0)), "WC-101")
    assert [o.stream for o in reborn.observations] == [o.stream for o in before.observations] == [S101]
    assert reborn.observations[0].sequence - before.observations[0].sequence == 2000 * 256 * F


def test_many_metrics_in_one_message() -> None:
    edge = Edge()
    edge.born()
    samples = [
        by_alias(1, DataType.Double, float(n), timestamp=NOW - timedelta(seconds=n), is_historical=True)
        for n in range(8191)
    ]
    result = edge.send("DDATA", device_data(2, NOW, *samples), "WC-101")
    assert len(result.observations) == 8191
    assert result.observations[-1] == Observation(
        "WC-101", S101, key(2) + 8191, NOW - timedelta(seconds=8190), "Spindle/Speed", 8190.0
    )
    assert reason_of(edge, "DDATA", device_data(3, NOW, *samples, samples[0]), "WC-101") == "oversize"


def test_non_scalar_metrics_are_skipped() -> None:
    edge = Edge()
    edge.send("NBIRTH", node_birth())
    photo = MetricSample(name="Photo", alias=3, datatype=DataType.Bytes, value=b"\x89PNG")
    result = edge.send("DBIRTH", encode_payload([SPEED, photo], timestamp=NOW, seq=1), "WC-101")
    assert [o.metric for o in result.observations] == ["availability", "Spindle/Speed"]
    assert result.skipped == 1


def test_null_value_is_none() -> None:
    edge = Edge()
    edge.born()
    result = edge.send("DDATA", device_data(2, NOW, by_alias(2, DataType.String, None)), "WC-101")
    assert [(o.metric, o.value) for o in result.observations] == [("Program", None)]


def test_state_and_commands_decode_without_observations() -> None:
    edge = Edge()
    state = edge.sessions.decode(
        "spBv1.0/STATE/scada", encode_state(online=False, timestamp=NOW), received_at=NOW, known_machines=KNOWN
    )
    assert (state.host_state, state.observations) == (HostState("scada", False, NOW), [])
    topic, payload = rebirth_command("plant1", "edge1", now=NOW)
    command = edge.sessions.decode(topic, payload, received_at=NOW, known_machines=KNOWN)
    assert (command.commands, command.observations, command.rebirth) == ([("Node Control/Rebirth", True)], [], None)
    edge.born()
    dcmd = edge.send("DCMD", encode_payload([by_alias(2, DataType.String, "O9")], timestamp=NOW, seq=None), "WC-101")
    assert dcmd.commands == [("Program", "O9")]


def test_message_level_rejections() -> None:
    edge = Edge()
    edge.born()
    data = device_data(2, NOW, by_alias(1, DataType.Double, 1.0))
    assert reason_of(edge, "DDATA", data, "WC-101/x") == "bad_topic"
    with pytest.raises(MalformedMessage) as caught:
        edge.sessions.decode(
            "spBv1.0/plant1/DDATA/edge1/WC-101", data, received_at=NOW, known_machines=KNOWN, max_bytes=len(data) - 1
        )
    assert caught.value.reason == "oversize"
    assert reason_of(edge, "DDATA", b"\x0a\xff", "WC-101") == "bad_protobuf"
    no_seq = encode_payload([by_alias(1, DataType.Double, 1.0)], timestamp=NOW, seq=None)
    assert reason_of(edge, "DDATA", no_seq, "WC-101") == "bad_protobuf"
    no_time = encode_payload([by_alias(1, DataType.Double, 1.0)], timestamp=None, seq=2)
    assert reason_of(edge, "DDATA", no_time, "WC-101") == "bad_protobuf"
    assert reason_of(edge, "DDATA", device_data(256, NOW), "WC-101") == "bad_protobuf"
    assert reason_of(edge, "NBIRTH", encode_payload([], timestamp=NOW, seq=0)) == "bad_protobuf"
    assert reason_of(edge, "NDEATH", encode_payload([], timestamp=None, seq=None)) == "bad_protobuf"
    untyped = MetricSample(name="x", datatype=DataType.Double, value=1.0, send_datatype=False)
    assert reason_of(edge, "DBIRTH", encode_payload([untyped], timestamp=NOW, seq=2), "WC-101") == "bad_protobuf"
    twice = encode_payload([SPEED, SPEED], timestamp=NOW, seq=2)
    assert reason_of(edge, "DBIRTH", twice, "WC-101") == "bad_protobuf"
    anonymous = encode_payload([MetricSample(datatype=DataType.Double, value=1.0)], timestamp=NOW, seq=2)
    assert reason_of(edge, "DDATA", anonymous, "WC-101") == "bad_protobuf"
    ahead = device_data(2, after(30 + 301), by_alias(1, DataType.Double, 1.0))
    assert reason_of(edge, "DDATA", ahead, "WC-101") == "future_timestamp"
    # None of these touched the session: seq 2 is still the next one in order.
    assert edge.send("DDATA", data, "WC-101").rebirth is None


@pytest.mark.parametrize(
    ("metric", "reason"),
    [
        (by_alias(1, DataType.String, "fast"), "wrong_type"),
        (MetricSample(alias=1, datatype=DataType.Float, value=1.5), "wrong_type"),
        (by_alias(1, DataType.Double, float("nan")), "not_finite"),
        (by_alias(1, DataType.Double, float("-inf")), "not_finite"),
        (by_alias(1, DataType.Double, 1.0, timestamp=NOW + timedelta(seconds=30 + 301)), "future_timestamp"),
    ],
)
def test_one_bad_metric_rejects_the_message_but_keeps_the_seq(metric: MetricSample, reason: str) -> None:
    edge = Edge()
    edge.born()
    good = by_alias(2, DataType.String, "O1")
    assert reason_of(edge, "DDATA", device_data(2, NOW, good, metric), "WC-101") == reason
    following = edge.send("DDATA", device_data(3, after(1), good), "WC-101")
    assert (following.rebirth, following.gaps, [o.value for o in following.observations]) == (None, [], ["O1"])


def test_unknown_machine_is_rejected_but_the_session_goes_on() -> None:
    edge = Edge()
    edge.born()
    assert reason_of(edge, "DBIRTH", encode_payload([SPEED], timestamp=NOW, seq=2), "WC-999") == "unknown_machine"
    ddata = device_data(3, NOW, by_alias(1, DataType.Double, 1.0))
    assert reason_of(edge, "DDATA", ddata, "WC-999") == "unknown_machine"
    assert edge.send("DDATA", device_data(4, NOW, by_alias(1, DataType.Double, 2.0)), "WC-101").rebirth is None


def test_gateway_with_its_own_metrics_is_an_unknown_machine_but_its_session_counts() -> None:
    edge = Edge()
    gauge = MetricSample(name="CPU", alias=9, datatype=DataType.Float, value=0.5)
    assert reason_of(edge, "NBIRTH", node_birth(extra=[gauge])) == "unknown_machine"
    assert reason_of(edge, "NDATA", device_data(1, NOW, by_alias(9, DataType.Float, 0.75))) == "unknown_machine"
    dbirth = edge.send("DBIRTH", encode_payload([SPEED], timestamp=NOW, seq=2), "WC-101")
    assert (dbirth.rebirth, [o.metric for o in dbirth.observations]) == (None, ["availability", "Spindle/Speed"])


def test_rebirth_noticed_in_a_rejected_message_comes_with_the_next_one() -> None:
    edge = Edge()
    edge.born()
    jumped = device_data(7, NOW, by_alias(1, DataType.Double, float("nan")))
    assert reason_of(edge, "DDATA", jumped, "WC-101") == "not_finite"
    nxt = edge.send("DDATA", device_data(8, after(1), by_alias(1, DataType.Double, 1.0)), "WC-101")
    assert nxt.rebirth == ("plant1", "edge1")
    assert [(g.machine, g.reason) for g in nxt.gaps] == [("WC-101", "sparkplug seq jumped from 1 to 7 (expected 2)")]


def test_redelivery_after_rebirth_and_death_changes_nothing() -> None:
    edge = Edge()
    edge.born()
    message = device_data(2, after(1), by_alias(1, DataType.Double, 10.0))
    first = edge.send("DDATA", message, "WC-101")
    edge.send("NBIRTH", node_birth(at=after(2)))
    edge.send("DBIRTH", encode_payload([SPEED, PROGRAM], timestamp=after(2), seq=1), "WC-101")
    after_rebirth = edge.send("DDATA", message, "WC-101")
    assert (after_rebirth.observations, after_rebirth.duplicate, after_rebirth.rebirth) == (
        first.observations,
        True,
        None,
    )
    edge.send("NDEATH", encode_payload([bd_seq(4)], timestamp=None, seq=None))
    after_death = edge.send("DDATA", message, "WC-101")
    assert (after_death.observations, after_death.duplicate, after_death.rebirth) == (first.observations, True, None)
    birth_again = edge.send("NBIRTH", node_birth(at=after(2)))
    assert birth_again.duplicate is True
    # Still dead: the redelivered birth did not start the session again.
    late = edge.send("DDATA", device_data(3, after(9), by_alias(1, DataType.Double, 1.0)), "WC-101")
    assert (late.observations, late.rebirth) == ([], ("plant1", "edge1"))
