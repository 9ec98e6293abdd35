"""Which OPC UA nodes the MES reads for each machine: the per-machine node map and its file format.

A machine on an OPC UA server is an object in the Machinery `Machines` folder (a MachineryItem,
MachineTool, LaserSystem or MetalForming machine). The map names, per work center, that object and
the variables read from it. A metric target is either a NodeId (`nsu=<namespace uri>;i=6005` is
stable across server restarts, `ns=16;i=6005` is not) or a browse path relative to the machine
object, `Production/ActiveProgram/Name`. A path segment without a prefix matches a child of that
name in any namespace, because example and vendor models often re-declare a standard name in their
own namespace (ENGEL's MachineryItemState is in the ENGEL namespace); `MachineTool:Name` insists on
the namespace (aliases below, or a full URI in braces: `{http://…/}Name`).

Metrics without an entry in the map come from DEFAULT_METRICS, where each has candidate paths tried
in order: Machinery 1.03 building blocks first, then the companion specifications' own places.
Nothing here imports asyncua: the map is validated before any connection is made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NAMESPACE_ALIASES: Mapping[str, str] = {
    "UA": "http://opcfoundation.org/UA/",
    "DI": "http://opcfoundation.org/UA/DI/",
    "IA": "http://opcfoundation.org/UA/IA/",
    "Machinery": "http://opcfoundation.org/UA/Machinery/",
    "MachineTool": "http://opcfoundation.org/UA/MachineTool/",
    "LaserSystems": "http://opcfoundation.org/UA/LaserSystems/",
    "MetalForming": "http://opcfoundation.org/UA/MetalForming/",
}
MACHINERY_URI = NAMESPACE_ALIASES["Machinery"]

# Metric names shared with the other sources where the meaning is the same (program, part_count);
# OPC UA's own state vocabularies keep their own names (see docs/opcua.md).
DEFAULT_METRICS: Mapping[str, tuple[str, ...]] = {
    "machinery_state": (
        "MachineryBuildingBlocks/MachineryItemState/CurrentState",
        "Monitoring/MachineTool/MachineryItemState/CurrentState",
        "MachineryItemState/CurrentState",
    ),
    "operation_mode": (
        "MachineryBuildingBlocks/MachineryOperationMode/CurrentState",
        "Monitoring/MachineTool/OperationMode",
        "MachineryOperationMode/CurrentState",
    ),
    "stacklight": ("Monitoring/Stacklight",),
    "part_count": (
        "Production/Statistics/PartsProducedInLifetime",
        "Production/ActiveProgram/PartsCompleted",
    ),
    "program": ("Production/ActiveProgram/Name",),
}

SECURITY_POLICIES = ("None", "Basic256Sha256")
SECURITY_MODES = ("None", "SignAndEncrypt")


class NodeMapError(ValueError):
    """The node map file or dict is not usable; the message names the entry and what is wrong."""


@dataclass(frozen=True, slots=True)
class PathSegment:
    """One step of a browse path: a browse name, optionally bound to a namespace URI."""

    name: str
    namespace_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Security:
    """How one endpoint is secured: Basic256Sha256 SignAndEncrypt needs our certificate and key and the server's."""

    policy: str = "None"
    mode: str = "None"
    certificate: Path | None = None
    private_key: Path | None = None
    server_certificate: Path | None = None

    @property
    def is_secure(self) -> bool:
        return self.policy != "None"


NO_SECURITY = Security()


@dataclass(frozen=True, slots=True)
class MachineMap:
    """One work center on one endpoint: its object in the Machines folder and the metrics read from it."""

    machine: str
    endpoint: str
    object: str
    metrics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    security: Security = NO_SECURITY


def is_node_id(target: str) -> bool:
    """NodeId strings start with ns=, nsu= or an identifier type (i=, s=, g=, b=); browse paths never do."""
    return target.startswith(("ns=", "nsu=", "i=", "s=", "g=", "b="))


def parse_path(path: str) -> tuple[PathSegment, ...]:
    """`Production/ActiveProgram/Name`, `MachineTool:Production/…`, `{http://x/}Name` → segments."""
    segments: list[PathSegment] = []
    for raw in _split_path(path.strip("/")):
        part = raw.strip()
        if not part:
            raise NodeMapError(f"browse path {path!r} has an empty segment")
        namespace_uri: str | None = None
        if part.startswith("{"):
            uri, closing, name = part[1:].partition("}")
            if not closing or not uri:
                raise NodeMapError(f"browse path {path!r}: {part!r} has no closing brace after the namespace URI")
            namespace_uri, part = uri, name
        elif ":" in part:
            alias, _, name = part.partition(":")
            if alias not in NAMESPACE_ALIASES:
                known = ", ".join(NAMESPACE_ALIASES)
                raise NodeMapError(f"browse path {path!r}: unknown namespace alias {alias!r} (known: {known})")
            namespace_uri, part = NAMESPACE_ALIASES[alias], name
        if not part:
            raise NodeMapError(f"browse path {path!r} has a segment without a name")
        segments.append(PathSegment(name=part, namespace_uri=namespace_uri))
    return tuple(segments)


def _split_path(path: str) -> list[str]:
    """Split on "/" except inside {namespace URI} braces, which contain slashes of their own."""
    parts: list[str] = []
    current: list[str] = []
    in_uri = False
    for char in path:
        if char == "/" and not in_uri:
            parts.append("".join(current))
            current = []
            continue
        if char == "{":
            in_uri = True
        elif char == "}":
            in_uri = False
        current.append(char)
    parts.append("".join(current))
    return parts


def metric_targets(overrides: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The defaults with the machine's own entries on top (an entry replaces the default's candidates)."""
    return {**DEFAULT_METRICS, **overrides}


def load_node_map(source: Path | str | Mapping[str, Any]) -> list[MachineMap]:
    """Read a map from a YAML or JSON file (by suffix; YAML otherwise) or an already parsed dict.

    Shape: {endpoint?, security?, machines: [{machine, object, endpoint?, security?, metrics?}]};
    a machine's endpoint and security default to the top-level ones.
    """
    if isinstance(source, Mapping):
        document: Any = source
        where = "node map"
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise NodeMapError(f"cannot read node map {where}: {exc.strerror or exc}") from exc
        try:
            document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise NodeMapError(f"{where} is not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}") from exc
    if not isinstance(document, Mapping):
        raise NodeMapError(f"{where}: expected a mapping with a 'machines' list")
    default_endpoint = document.get("endpoint")
    default_security = _security(document.get("security"), where)
    entries = document.get("machines")
    if not isinstance(entries, list) or not entries:
        raise NodeMapError(f"{where}: 'machines' must be a non-empty list")
    machines = [
        _machine(entry, index, where, default_endpoint, default_security) for index, entry in enumerate(entries)
    ]
    seen: set[str] = set()
    for machine in machines:
        if machine.machine in seen:
            raise NodeMapError(f"{where}: work center {machine.machine!r} is mapped twice")
        seen.add(machine.machine)
    return machines


def for_endpoint(machines: Sequence[MachineMap], endpoint: str) -> list[MachineMap]:
    """The machines of a map served by `endpoint` (trailing slashes do not matter)."""
    wanted = endpoint.rstrip("/")
    return [machine for machine in machines if machine.endpoint.rstrip("/") == wanted]


def _machine(entry: Any, index: int, where: str, default_endpoint: Any, default_security: Security) -> MachineMap:
    label = f"{where}: machines[{index}]"
    if not isinstance(entry, Mapping):
        raise NodeMapError(f"{label} must be a mapping")
    code, target = entry.get("machine"), entry.get("object")
    if not isinstance(code, str) or not code.strip():
        raise NodeMapError(f"{label} needs 'machine' (the work center code)")
    if not isinstance(target, str) or not target.strip():
        raise NodeMapError(f"{label} ({code}) needs 'object' (a browse name under Machines or a NodeId)")
    endpoint = entry.get("endpoint", default_endpoint)
    if not isinstance(endpoint, str) or not endpoint.startswith("opc.tcp://"):
        raise NodeMapError(f"{label} ({code}) needs an 'endpoint' like opc.tcp://host:4840 (here or at the top)")
    security = _security(entry["security"], label) if "security" in entry else default_security
    raw_metrics = entry.get("metrics") or {}
    if not isinstance(raw_metrics, Mapping):
        raise NodeMapError(f"{label} ({code}): 'metrics' must map metric names to a NodeId or browse path")
    metrics: dict[str, tuple[str, ...]] = {}
    for name, value in raw_metrics.items():
        candidates = (value,) if isinstance(value, str) else value
        if not isinstance(name, str) or not isinstance(candidates, list | tuple) or not candidates:
            raise NodeMapError(f"{label} ({code}): metric {name!r} needs a NodeId or browse path (or a list)")
        for candidate in candidates:
            if not isinstance(candidate, str) or not candidate.strip():
                raise NodeMapError(f"{label} ({code}): metric {name!r} has an empty target")
            if not is_node_id(candidate):
                parse_path(candidate)
        metrics[name] = tuple(candidates)
    if not is_node_id(target):
        parse_path(target)
    return MachineMap(machine=code, endpoint=endpoint, object=target, metrics=metrics, security=security)


def _security(raw: Any, where: str) -> Security:
    if raw is None:
        return NO_SECURITY
    if not isinstance(raw, Mapping):
        raise NodeMapError(f"{where}: 'security' must be a mapping (policy, mode, certificate, private_key, ...)")
    policy = raw.get("policy", "None")
    mode = raw.get("mode", "None" if policy == "None" else "SignAndEncrypt")
    if policy not in SECURITY_POLICIES or mode not in SECURITY_MODES or (policy == "None") != (mode == "None"):
        raise NodeMapError(
            f"{where}: security must be policy None (mode None) or policy Basic256Sha256 with mode SignAndEncrypt"
        )
    if policy == "None":
        return NO_SECURITY
    paths: dict[str, Path] = {}
    for key in ("certificate", "private_key", "server_certificate"):
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            raise NodeMapError(f"{where}: Basic256Sha256 needs '{key}' (a file path)")
        paths[key] = Path(value)
    return Security(policy=policy, mode=mode, **paths)
