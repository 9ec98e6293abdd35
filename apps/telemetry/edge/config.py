"""The gateway's configuration file (TOML or JSON): where the buffer lives, which broker, which sources.

The gateway runs on a shop-floor PC next to the machines, without the MES database or Django settings,
so everything it needs is in this one file. Unknown keys are an error: a typo must not silently fall
back to a default (a mistyped `max_buffer_mb` would otherwise leave the disk unbounded).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

SOURCE_KINDS = ("mtconnect", "opcua")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or names something the gateway cannot use."""


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    client_id: str
    keepalive: int = 30
    connect_timeout: float = 5.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0


@dataclass(frozen=True, slots=True)
class SourceConfig:
    kind: str
    name: str
    url: str
    department: str
    device: str | None = None
    machines: Mapping[str, str] | None = None
    timeout: float = 10.0
    count: int = 1000
    node_map: Path | None = None


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    buffer: Path
    broker: BrokerConfig
    sources: tuple[SourceConfig, ...]
    max_buffer_mb: float = 512.0
    poll_interval: float = 1.0
    status_interval: float = 60.0
    batch_size: int = 500
    max_message_bytes: int = 128 * 1024
    max_inflight: int = 20

    @property
    def max_buffer_bytes(self) -> int:
        return int(self.max_buffer_mb * 1024 * 1024)


def load_config(path: Path) -> GatewayConfig:
    """Read a .toml or .json file; relative buffer paths are taken relative to the file."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration {path}: {exc.strerror or exc}") from exc
    try:
        document = json.loads(text) if path.suffix == ".json" else tomllib.loads(text.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the top level must be a table")
    return parse_config(document, base=path.parent)


def parse_config(document: Mapping[str, Any], base: Path) -> GatewayConfig:
    _only(document, {"gateway", "broker", "sources"}, "the file")
    gateway = _table(document, "gateway")
    _only(
        gateway,
        {
            "buffer",
            "max_buffer_mb",
            "poll_interval",
            "status_interval",
            "batch_size",
            "max_message_bytes",
            "max_inflight",
        },
        "[gateway]",
    )
    if "buffer" not in gateway:
        raise ConfigError("[gateway] needs `buffer`: the path of the SQLite buffer file")
    buffer = Path(str(gateway["buffer"]))
    sources = document.get("sources", [])
    if not isinstance(sources, list) or not sources:
        raise ConfigError("at least one [[sources]] entry is needed")
    parsed_sources = tuple(_source(entry, number, base) for number, entry in enumerate(sources))
    names = [source.name for source in parsed_sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"source names must be unique, got {names}")
    return GatewayConfig(
        buffer=buffer if buffer.is_absolute() else base / buffer,
        broker=_broker(_table(document, "broker")),
        sources=parsed_sources,
        max_buffer_mb=_positive(gateway, "max_buffer_mb", 512.0, "[gateway]"),
        poll_interval=_positive(gateway, "poll_interval", 1.0, "[gateway]"),
        status_interval=_positive(gateway, "status_interval", 60.0, "[gateway]"),
        batch_size=int(_positive(gateway, "batch_size", 500, "[gateway]")),
        max_message_bytes=int(_positive(gateway, "max_message_bytes", 128 * 1024, "[gateway]")),
        max_inflight=int(_positive(gateway, "max_inflight", 20, "[gateway]")),
    )


def _broker(table: Mapping[str, Any]) -> BrokerConfig:
    _only(
        table,
        {"url", "client_id", "username", "password", "keepalive", "connect_timeout", "reconnect_min", "reconnect_max"},
        "[broker]",
    )
    if "url" not in table or "client_id" not in table:
        raise ConfigError("[broker] needs `url` (mqtt://host:1883 or mqtts://host:8883) and `client_id`")
    url = urlsplit(str(table["url"]))
    if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
        raise ConfigError(f"[broker] url {table['url']!r} must look like mqtt://host:1883 or mqtts://host:8883")
    tls = url.scheme == "mqtts"
    return BrokerConfig(
        host=url.hostname,
        port=url.port or (8883 if tls else 1883),
        tls=tls,
        username=table.get("username", unquote(url.username) if url.username else None),
        password=table.get("password", unquote(url.password) if url.password else None),
        client_id=str(table["client_id"]),
        keepalive=int(_positive(table, "keepalive", 30, "[broker]")),
        connect_timeout=_positive(table, "connect_timeout", 5.0, "[broker]"),
        reconnect_min=_positive(table, "reconnect_min", 0.5, "[broker]"),
        reconnect_max=_positive(table, "reconnect_max", 30.0, "[broker]"),
    )


def _source(entry: Any, number: int, base: Path) -> SourceConfig:
    where = f"[[sources]] #{number + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    _only(entry, {"kind", "name", "url", "department", "device", "machines", "timeout", "count", "node_map"}, where)
    missing = [key for key in ("kind", "name", "url", "department") if key not in entry]
    if missing:
        raise ConfigError(f"{where} needs {', '.join(missing)}")
    if entry["kind"] not in SOURCE_KINDS:
        raise ConfigError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(SOURCE_KINDS)}")
    machines = entry.get("machines")
    if machines is not None and not (
        isinstance(machines, dict) and all(isinstance(v, str) and v for v in machines.values())
    ):
        raise ConfigError(f"{where}: machines maps device names or uuids to work center codes")
    return SourceConfig(
        kind=str(entry["kind"]),
        name=str(entry["name"]),
        url=str(entry["url"]),
        department=str(entry["department"]),
        device=str(entry["device"]) if entry.get("device") else None,
        machines={str(key): value for key, value in machines.items()} if machines else None,
        timeout=_positive(entry, "timeout", 10.0, where),
        count=int(_positive(entry, "count", 1000, where)),
        node_map=base / str(entry["node_map"]) if entry.get("node_map") else None,
    )


def _table(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    table = document.get(key)
    if not isinstance(table, dict):
        raise ConfigError(f"the [{key}] table is missing")
    return table


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _positive(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: {key} must be a positive number, got {value!r}")
    return float(value)
