"""Turn MTConnect stream entries into the MES's observations and into a per-machine state summary.

The probe says what each data item means; the MES only cares about a handful of them by role
(availability, execution, controller mode, program, part count, conditions) and gives those stable
metric names so that dashboards and OEE do not depend on how each OEM named its data items. Every
other item keeps its own name (or id, when the name is missing or not unique in the device).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from apps.telemetry.mtconnect.documents import (
    DataItem,
    DeviceStream,
    ProbeDocument,
    StreamEntry,
    StreamsDocument,
)
from apps.telemetry.observations import Observation, Value

# Role -> (MTConnect type, acceptable subTypes in order of preference). A PART_COUNT of subType BAD or
# TARGET is not "parts made", and the main program is the job, not the subprogram it is in right now.
ROLES: dict[str, tuple[str, tuple[str | None, ...]]] = {
    "availability": ("AVAILABILITY", (None,)),
    "execution": ("EXECUTION", (None,)),
    "controller_mode": ("CONTROLLER_MODE", (None,)),
    "program": ("PROGRAM", (None, "MAIN", "ACTIVE")),
    "part_count": ("PART_COUNT", (None, "ALL")),
}
SETUP_MODES = frozenset({"MANUAL", "MANUAL_DATA_INPUT"})


@dataclass(frozen=True, slots=True)
class DeviceItems:
    """What one device's data items mean to the MES: role -> item id, and item id -> metric name."""

    roles: Mapping[str, str]
    conditions: tuple[str, ...]
    metrics: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DataItemMap:
    """Per device name, built from the probe; items missing from it are named from the stream itself."""

    devices: Mapping[str, DeviceItems] = field(default_factory=dict)

    @classmethod
    def from_probe(cls, probe: ProbeDocument) -> DataItemMap:
        return cls({device.name: device_items(device.data_items) for device in probe.devices if not device.is_agent})

    def for_device(self, stream: DeviceStream) -> DeviceItems:
        """The probe's view of the device, completed by what its stream shows (an older probe, or none)."""
        known = self.devices.get(stream.name)
        declared = _items_from_entries(stream.entries)
        if known is None:
            return device_items(declared)
        missing = [item for item in declared if item.id not in known.metrics]
        if not missing:
            return known
        extra = device_items(missing, taken=set(known.metrics.values()))
        return DeviceItems(
            roles={**extra.roles, **known.roles},
            conditions=known.conditions + extra.conditions,
            metrics={**known.metrics, **extra.metrics},
        )


def device_items(items: Sequence[DataItem], taken: set[str] | None = None) -> DeviceItems:
    """Assign roles (first item of the right type, preferred subType first) and metric names."""
    roles: dict[str, str] = {}
    for role, (item_type, sub_types) in ROLES.items():
        for sub_type in sub_types:
            match = next((item for item in items if item.type == item_type and item.sub_type == sub_type), None)
            if match is not None:
                roles[role] = match.id
                break
    names = [item.name for item in items if item.name]
    # A second EXECUTION item named "execution" must not pass for the role's metric.
    used = set(taken or ()) | set(ROLES)
    role_by_item = {identifier: role for role, identifier in roles.items()}
    metrics: dict[str, str] = {}
    for item in items:
        if item.id in role_by_item:
            metrics[item.id] = role_by_item[item.id]
            continue
        own = item.name if item.name and names.count(item.name) == 1 and item.name not in used else item.id
        metrics[item.id] = f"condition:{own}" if item.category == "CONDITION" else own
    conditions = tuple(item.id for item in items if item.category == "CONDITION")
    return DeviceItems(roles=roles, conditions=conditions, metrics=metrics)


def _items_from_entries(entries: Iterable[StreamEntry]) -> list[DataItem]:
    seen: dict[str, DataItem] = {}
    for entry in entries:
        seen.setdefault(
            entry.data_item_id,
            DataItem(
                id=entry.data_item_id,
                name=entry.name,
                type=entry.type,
                sub_type=entry.sub_type,
                category=entry.category,
                units=None,
            ),
        )
    return list(seen.values())


def machine_for(stream: DeviceStream, machines: Mapping[str, str] | None) -> str | None:
    """The work center code for a device: mapped by device name or uuid, else the device name itself.

    With a mapping, a device it does not name is not one of this MES's machines (agents often serve
    several shops' or cells' devices), so None: its entries are left out.
    """
    if stream.is_agent:
        return None
    if machines is None:
        return stream.name
    return machines.get(stream.name) or (machines.get(stream.uuid) if stream.uuid else None)


def stream_name(instance_id: int) -> str:
    """Sequences restart with each agent instance, so the instance is part of the stream's identity."""
    return f"mtconnect:{instance_id}"


def typed_value(entry: StreamEntry, metric: str) -> Value:
    """Numbers for samples and part counts, strings for events, None for UNAVAILABLE.

    A condition becomes its level, with the controller's native code when given (`FAULT:2001`), so
    that each alarm raised or cleared is one observation; Unavailable is None like any other value.
    A sample that is not one finite number (a 3-D position, a time series) stays the agent's text.
    """
    if entry.category == "CONDITION":
        if entry.level in (None, "unavailable"):
            return None
        level = entry.level.upper()
        return f"{level}:{entry.native_code}" if entry.native_code else level
    if entry.value is None:
        return None
    if metric == "part_count":
        try:
            return int(entry.value)
        except ValueError:
            return _number(entry.value)
    if entry.category == "SAMPLE":
        return _number(entry.value)
    return entry.value


def _number(text: str) -> float | str:
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def to_observations(
    document: StreamsDocument,
    items: DataItemMap | None = None,
    machines: Mapping[str, str] | None = None,
) -> list[Observation]:
    """Every entry of every machine's device stream as an Observation, in the agent's sequence order."""
    mapping = items or DataItemMap()
    stream = stream_name(document.header.instance_id)
    observations: list[Observation] = []
    for device in document.devices:
        machine = machine_for(device, machines)
        if machine is None:
            continue
        metrics = mapping.for_device(device).metrics
        for entry in device.entries:
            metric = metrics[entry.data_item_id]
            observations.append(
                Observation(
                    machine=machine,
                    stream=stream,
                    sequence=entry.sequence,
                    timestamp=entry.timestamp,
                    metric=metric,
                    value=typed_value(entry, metric),
                )
            )
    observations.sort(key=lambda observation: observation.sequence)
    return observations


@dataclass(frozen=True, slots=True)
class ActiveCondition:
    type: str
    level: str
    native_code: str | None


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """A device as the MES sees it now: its OEE-relevant values, active alarms and derived state.

    `state` is None when the document carries no observation for the device (a probe alone).
    """

    name: str
    uuid: str | None
    availability: Value = None
    execution: Value = None
    controller_mode: Value = None
    program: Value = None
    part_count: Value = None
    conditions: tuple[ActiveCondition, ...] = ()
    state: str | None = None


def derive_state(
    availability: Value,
    execution: Value,
    controller_mode: Value,
    conditions: Sequence[ActiveCondition],
    reports_availability: bool,
) -> str:
    """offline > alarm > running > setup > idle, the first that holds.

    A Fault outranks a running program because the operator must act on it; setup is a manual or MDI
    controller mode while no program executes (jogging, touching off, single blocks), since that is
    what a job shop's machine does between jobs. A device without an availability item is never
    called offline: nothing says so.
    """
    if reports_availability and availability != "AVAILABLE":
        return "offline"
    if any(condition.level == "fault" for condition in conditions):
        return "alarm"
    if execution == "ACTIVE":
        return "running"
    if controller_mode in SETUP_MODES:
        return "setup"
    return "idle"


def summarise(device: DeviceStream, items: DeviceItems, name: str | None = None) -> DeviceSummary:
    """Fold a device's entries in sequence order: latest value per role, conditions raised and cleared.

    The same fold reads /current (several active conditions of one item listed together) and /sample
    (a Normal without native code clears the item, one with a code clears that code, Unavailable
    replaces everything until the next report).
    """
    latest: dict[str, Value] = {}
    active: dict[str, dict[str | None, ActiveCondition]] = {}
    reports_availability = "availability" in items.roles
    for entry in device.entries:
        metric = items.metrics[entry.data_item_id]
        if entry.category == "CONDITION":
            _fold_condition(active.setdefault(entry.data_item_id, {}), entry)
        elif metric in ROLES:
            latest[metric] = typed_value(entry, metric)
            reports_availability = reports_availability or metric == "availability"
    conditions = tuple(
        condition
        for item_id in items.conditions + tuple(key for key in active if key not in items.conditions)
        for condition in active.get(item_id, {}).values()
        if condition.level in ("warning", "fault")
    )
    state = None
    if device.entries:
        state = derive_state(
            latest.get("availability"),
            latest.get("execution"),
            latest.get("controller_mode"),
            conditions,
            reports_availability,
        )
    return DeviceSummary(
        name=name or device.name,
        uuid=device.uuid,
        availability=latest.get("availability"),
        execution=latest.get("execution"),
        controller_mode=latest.get("controller_mode"),
        program=latest.get("program"),
        part_count=latest.get("part_count"),
        conditions=conditions,
        state=state,
    )


def _fold_condition(codes: dict[str | None, ActiveCondition], entry: StreamEntry) -> None:
    level = entry.level or "unavailable"
    if level == "normal":
        if entry.native_code is None:
            codes.clear()
        else:
            codes.pop(entry.native_code, None)
        return
    if level == "unavailable" or _is_unavailable(codes):
        codes.clear()
    codes[entry.native_code] = ActiveCondition(type=entry.type, level=level, native_code=entry.native_code)


def _is_unavailable(codes: Mapping[str | None, ActiveCondition]) -> bool:
    marker = codes.get(None)
    return marker is not None and marker.level == "unavailable"


def summarise_documents(probe: ProbeDocument | None, streams: StreamsDocument | None) -> list[DeviceSummary]:
    """One summary per machine device (the agent's own device left out), in probe order when there is one."""
    items = DataItemMap.from_probe(probe) if probe is not None else DataItemMap()
    by_name = {device.name: device for device in streams.devices if not device.is_agent} if streams else {}
    summaries: list[DeviceSummary] = []
    if probe is not None:
        for device in probe.devices:
            if device.is_agent:
                continue
            stream = by_name.pop(
                device.name, DeviceStream(name=device.name, uuid=device.uuid, is_agent=False, entries=())
            )
            summaries.append(summarise(stream, items.for_device(stream)))
    summaries.extend(summarise(stream, items.for_device(stream)) for stream in by_name.values())
    return summaries
