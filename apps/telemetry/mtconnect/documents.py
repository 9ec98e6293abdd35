"""Parse MTConnect response documents (probe, current/sample streams, errors) into plain dataclasses.

Agents from 1.1 to 2.x put every element in a version-specific namespace
(`urn:mtconnect.org:MTConnectStreams:1.7`, ...), and vendors add their own (`x:`): matching on local
names lets one parser read them all. defusedxml refuses DTDs and entity expansion, so a hostile or
broken agent cannot make the poller expand a billion laughs. Everything here is pure: bytes in,
frozen dataclasses out, `MalformedMessage("bad_document", ...)` for anything that is not a
well-formed MTConnect document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from apps.telemetry.observations import MalformedMessage

UNAVAILABLE = "UNAVAILABLE"
CATEGORY_BY_CONTAINER = {"Samples": "SAMPLE", "Events": "EVENT", "Condition": "CONDITION"}
CONDITION_LEVELS = {"Normal": "normal", "Warning": "warning", "Fault": "fault", "Unavailable": "unavailable"}
# 1.5+ agents name non-scalar representations <PositionTimeSeries>, <VariableDataSet>, <WorkOffsetTable>.
REPRESENTATION_SUFFIXES = ("TimeSeries", "DataSet", "Table")


@dataclass(frozen=True, slots=True)
class DataItem:
    """One data item a device declares in its probe: what its observations mean and in which units."""

    id: str
    name: str | None
    type: str
    sub_type: str | None
    category: str
    units: str | None


@dataclass(frozen=True, slots=True)
class Device:
    """A device from the probe; `is_agent` marks the agent's own pseudo-device (1.7+), which is no machine."""

    id: str
    name: str
    uuid: str | None
    is_agent: bool
    data_items: tuple[DataItem, ...]


@dataclass(frozen=True, slots=True)
class ProbeHeader:
    instance_id: int
    buffer_size: int | None
    creation_time: datetime | None
    version: str | None


@dataclass(frozen=True, slots=True)
class ProbeDocument:
    header: ProbeHeader
    devices: tuple[Device, ...]


@dataclass(frozen=True, slots=True)
class StreamsHeader:
    """Where the agent's ring buffer stands: sequences first..last are retained, next is the next one issued."""

    instance_id: int
    first_sequence: int
    next_sequence: int
    last_sequence: int
    buffer_size: int
    creation_time: datetime


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One observation as the agent reported it; `value` is None when the agent says UNAVAILABLE.

    `type` comes from the element name (`PartCount` -> PART_COUNT) for samples and events and from the
    `type` attribute for conditions, so a streams document can be read without its probe. `level`,
    `native_code`, `native_severity` and `qualifier` are set for conditions only.
    """

    data_item_id: str
    name: str | None
    category: str
    type: str
    sub_type: str | None
    sequence: int
    timestamp: datetime
    value: str | None
    level: str | None = None
    native_code: str | None = None
    native_severity: str | None = None
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceStream:
    name: str
    uuid: str | None
    is_agent: bool
    entries: tuple[StreamEntry, ...]


@dataclass(frozen=True, slots=True)
class StreamsDocument:
    header: StreamsHeader
    devices: tuple[DeviceStream, ...]


@dataclass(frozen=True, slots=True)
class AgentErrorEntry:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ErrorDocument:
    """An MTConnectError answer (OUT_OF_RANGE, NO_DEVICE, ...); its header still names the agent instance."""

    instance_id: int | None
    errors: tuple[AgentErrorEntry, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(error.code for error in self.errors)


Document = ProbeDocument | StreamsDocument | ErrorDocument


def local_name(tag: str) -> str:
    """`{urn:mtconnect.org:MTConnectStreams:1.7}Execution` -> `Execution`."""
    return tag.rsplit("}", 1)[-1]


def parse_document(content: bytes | str) -> Document:
    """Parse whatever an agent answered; the root element decides which kind of document it is."""
    root = _parse_xml(content)
    kind = local_name(root.tag)
    if kind == "MTConnectDevices":
        return _probe(root)
    if kind == "MTConnectStreams":
        return _streams(root)
    if kind == "MTConnectError":
        return _error(root)
    raise MalformedMessage("bad_document", f"not an MTConnect document: the root element is <{kind}>")


def parse_probe(content: bytes | str) -> ProbeDocument:
    document = parse_document(content)
    if not isinstance(document, ProbeDocument):
        raise MalformedMessage("bad_document", f"expected an MTConnectDevices (probe) document, got {_kind(document)}")
    return document


def parse_streams(content: bytes | str) -> StreamsDocument:
    document = parse_document(content)
    if not isinstance(document, StreamsDocument):
        raise MalformedMessage("bad_document", f"expected an MTConnectStreams document, got {_kind(document)}")
    return document


def _kind(document: Document) -> str:
    if isinstance(document, ErrorDocument):
        return "an MTConnectError: " + ", ".join(document.codes)
    return "an MTConnectDevices document" if isinstance(document, ProbeDocument) else "an MTConnectStreams document"


def _parse_xml(content: bytes | str) -> ET.Element:
    if not content or not content.strip():
        raise MalformedMessage("bad_document", "empty document: the agent sent no XML")
    try:
        root: ET.Element = fromstring(content)
    except ET.ParseError as exc:
        raise MalformedMessage("bad_document", f"not well-formed XML: {exc}") from exc
    except DefusedXmlException as exc:
        raise MalformedMessage("bad_document", f"refused XML with a DTD or entities: {exc}") from exc
    return root


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local_name(child.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _required(element: ET.Element, attribute: str) -> str:
    value = element.get(attribute)
    if value is None or not value.strip():
        raise MalformedMessage(
            "bad_document", f"<{local_name(element.tag)}> has no {attribute} attribute, which MTConnect requires"
        )
    return value


def _integer(element: ET.Element, attribute: str) -> int:
    text = _required(element, attribute)
    try:
        return int(text)
    except ValueError as exc:
        raise MalformedMessage(
            "bad_document", f"<{local_name(element.tag)}> {attribute}={text!r} is not an integer"
        ) from exc


def _optional_integer(element: ET.Element, attribute: str) -> int | None:
    return _integer(element, attribute) if element.get(attribute) is not None else None


def parse_timestamp(text: str) -> datetime:
    """MTConnect timestamps are UTC; agents before 1.2 sometimes omit the zone, which still means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise MalformedMessage("bad_document", f"timestamp {text!r} is not ISO 8601") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _timestamp(element: ET.Element, attribute: str) -> datetime:
    return parse_timestamp(_required(element, attribute))


def _header(root: ET.Element) -> ET.Element:
    header = _child(root, "Header")
    if header is None:
        raise MalformedMessage("bad_document", f"<{local_name(root.tag)}> has no <Header>")
    return header


def _probe(root: ET.Element) -> ProbeDocument:
    header = _header(root)
    creation = header.get("creationTime")
    devices_element = _child(root, "Devices")
    if devices_element is None:
        raise MalformedMessage("bad_document", "<MTConnectDevices> has no <Devices>")
    devices = tuple(_device(element) for element in devices_element if local_name(element.tag) in ("Device", "Agent"))
    return ProbeDocument(
        header=ProbeHeader(
            instance_id=_integer(header, "instanceId"),
            buffer_size=_optional_integer(header, "bufferSize"),
            creation_time=parse_timestamp(creation) if creation else None,
            version=header.get("version"),
        ),
        devices=devices,
    )


def _device(element: ET.Element) -> Device:
    items = tuple(_data_item(item) for item in element.iter() if local_name(item.tag) == "DataItem")
    # Devices before 1.1 may lack a name; the id is then the only stable handle.
    identifier = _required(element, "id")
    return Device(
        id=identifier,
        name=element.get("name") or identifier,
        uuid=element.get("uuid"),
        is_agent=local_name(element.tag) == "Agent",
        data_items=items,
    )


def _data_item(element: ET.Element) -> DataItem:
    return DataItem(
        id=_required(element, "id"),
        name=element.get("name"),
        type=_required(element, "type"),
        sub_type=element.get("subType"),
        category=_required(element, "category"),
        units=element.get("units"),
    )


def _streams(root: ET.Element) -> StreamsDocument:
    header = _header(root)
    streams_element = _child(root, "Streams")
    # An agent whose devices have no observations yet sends an empty or absent <Streams>.
    device_elements = _children(streams_element, "DeviceStream") if streams_element is not None else []
    return StreamsDocument(
        header=StreamsHeader(
            instance_id=_integer(header, "instanceId"),
            first_sequence=_integer(header, "firstSequence"),
            next_sequence=_integer(header, "nextSequence"),
            last_sequence=_integer(header, "lastSequence"),
            buffer_size=_integer(header, "bufferSize"),
            creation_time=_timestamp(header, "creationTime"),
        ),
        devices=tuple(_device_stream(element) for element in device_elements),
    )


def _device_stream(element: ET.Element) -> DeviceStream:
    entries: list[StreamEntry] = []
    is_agent = False
    for component in _children(element, "ComponentStream"):
        is_agent = is_agent or component.get("component") == "Agent"
        for container in component:
            category = CATEGORY_BY_CONTAINER.get(local_name(container.tag))
            if category is not None:
                entries.extend(_entry(observation, category) for observation in container)
    return DeviceStream(
        name=_required(element, "name"),
        uuid=element.get("uuid"),
        is_agent=is_agent,
        entries=tuple(sorted(entries, key=lambda entry: entry.sequence)),
    )


def _entry(element: ET.Element, category: str) -> StreamEntry:
    tag = local_name(element.tag)
    if category != "CONDITION":
        return StreamEntry(
            data_item_id=_required(element, "dataItemId"),
            name=element.get("name"),
            category=category,
            type=_type_from_tag(tag),
            sub_type=element.get("subType"),
            sequence=_integer(element, "sequence"),
            timestamp=_timestamp(element, "timestamp"),
            value=_value(element),
        )
    level = CONDITION_LEVELS.get(tag)
    if level is None:
        raise MalformedMessage(
            "bad_document", f"<{tag}> is not a condition level (Normal, Warning, Fault, Unavailable)"
        )
    return StreamEntry(
        data_item_id=_required(element, "dataItemId"),
        name=element.get("name"),
        category=category,
        type=_required(element, "type"),
        sub_type=element.get("subType"),
        sequence=_integer(element, "sequence"),
        timestamp=_timestamp(element, "timestamp"),
        # A condition's text is the controller's alarm message, not a value: keep it, never read it as UNAVAILABLE.
        value=(element.text or "").strip() or None,
        level=level,
        native_code=element.get("nativeCode"),
        native_severity=element.get("nativeSeverity"),
        qualifier=element.get("qualifier"),
    )


def _type_from_tag(tag: str) -> str:
    for suffix in REPRESENTATION_SUFFIXES:
        if tag.endswith(suffix) and tag != suffix:
            tag = tag[: -len(suffix)]
            break
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", tag).upper()


def _value(element: ET.Element) -> str | None:
    entries = [child for child in element if local_name(child.tag) in ("Entry", "Cell")]
    if entries:
        # Data sets and tables: keep every key in the agent's order, as one readable string.
        return " ".join(f"{entry.get('key', '')}={(entry.text or '').strip()}" for entry in entries)
    text = (element.text or "").strip()
    return None if text == UNAVAILABLE else text


def _error(root: ET.Element) -> ErrorDocument:
    header = _child(root, "Header")
    instance = header.get("instanceId") if header is not None else None
    errors = []
    for element in root.iter():
        code = element.get("errorCode")
        if code is None:
            continue
        # 2.6+ agents put the text in <ErrorMessage>; earlier ones make it the element's own text.
        message_element = next((child for child in element if local_name(child.tag) == "ErrorMessage"), None)
        message = message_element.text if message_element is not None else element.text
        errors.append(AgentErrorEntry(code=code, message=(message or "").strip()))
    if not errors:
        raise MalformedMessage("bad_document", "<MTConnectError> lists no error with an errorCode")
    return ErrorDocument(instance_id=int(instance) if instance and instance.isdigit() else None, errors=tuple(errors))
