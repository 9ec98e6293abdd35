"""Sparkplug B over MQTT: topic parsing, payload encoding and decoding, and the per-worker session tracker.

Pure decoding, no Django and no MQTT connection: an ingest worker hands every message of
`spBv1.0/#` to one `SparkplugSessions` and stores the Observations it gets back. docs/mqtt.md is
the integrator's description of what is accepted and what is rejected.

`sparkplug_b_pb2.py` (and its `.pyi` stub) is generated from `sparkplug_b.proto`, never edited.
Regenerate with grpcio-tools from requirements/dev.txt, whose protoc emits code for a protobuf
runtime no newer than the one ortools pins:
    .venv/bin/python -m grpc_tools.protoc --proto_path=apps/telemetry/sparkplug \
        --python_out=apps/telemetry/sparkplug --pyi_out=apps/telemetry/sparkplug \
        apps/telemetry/sparkplug/sparkplug_b.proto
"""

from apps.telemetry.sparkplug.codec import (
    HostState,
    MetricSample,
    decode_state,
    encode_payload,
    encode_state,
    parse_payload,
    rebirth_command,
)
from apps.telemetry.sparkplug.sessions import (
    AVAILABILITY,
    AVAILABLE,
    UNAVAILABLE,
    SparkplugResult,
    SparkplugSessions,
    message_key,
    stream_name,
)
from apps.telemetry.sparkplug.sparkplug_b_pb2 import DataType, Payload
from apps.telemetry.sparkplug.topic import MessageType, SparkplugTopic, parse_topic

__all__ = [
    "AVAILABILITY",
    "AVAILABLE",
    "UNAVAILABLE",
    "DataType",
    "HostState",
    "MessageType",
    "MetricSample",
    "Payload",
    "SparkplugResult",
    "SparkplugSessions",
    "SparkplugTopic",
    "decode_state",
    "encode_payload",
    "encode_state",
    "message_key",
    "parse_payload",
    "parse_topic",
    "rebirth_command",
    "stream_name",
]
