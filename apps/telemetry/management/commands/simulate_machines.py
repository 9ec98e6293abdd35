import logging
import signal
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from apps.telemetry.ingest import BrokerAddress
from apps.telemetry.simulator.agent import SimulatedAgent
from apps.telemetry.simulator.model import Kind
from apps.telemetry.simulator.opcua_server import SimulatedOpcUaServer, served_machine
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.shop import WorkCenterCalendar, simulated_work_centers, spec_of
from apps.telemetry.simulator.sinks import BrokerUnavailable, CallableSink, MqttSink, OnCommand, Sink

DEFAULT_AGENT_PORT = 5050
DEFAULT_OPCUA_PORT = 4841  # next to OPC UA's usual 4840, which a real server on this computer may hold
IN_PROCESS_BACKLOG = timedelta(hours=24)  # how far back an open-ended fast run starts


class Stop(Exception):
    """SIGINT or SIGTERM: end the run cleanly (deaths published, agent and OPC UA server stopped)."""


def _in_process_sink(on_command: OnCommand) -> Sink:
    """The broker-less sink: every message straight into the ingest pipeline, its rebirths back to us."""
    try:
        from apps.telemetry.ingest import ingest_payloads
    except ImportError as exc:
        raise CommandError(
            f"The in-process ingest is not available ({exc}); pass --broker mqtt://host:1883 or set MQTT_URL."
        ) from None

    def deliver(topic: str, payload: bytes) -> Iterable[tuple[str, bytes]]:
        return ingest_payloads([(topic, payload)]).rebirths

    return CallableSink(deliver, on_command)


class Command(BaseCommand):
    help = (
        "Simulate the shop's machines (the active work centers) as Sparkplug B edge nodes, one per department, "
        "to an MQTT broker or straight into the ingest; one laser is also served as an MTConnect agent, "
        "one press brake as an OPC UA server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--broker", default="", help="mqtt://[user:password@]host:port (default: MQTT_URL).")
        parser.add_argument(
            "--in-process", action="store_true", help="Feed the ingest pipeline directly, even if MQTT_URL is set."
        )
        parser.add_argument("--speed", type=float, default=1.0, help="Simulated seconds per real second.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same shop floor.")
        parser.add_argument("--machines", type=int, default=None, help="Simulate N machines (clones beyond the shop).")
        parser.add_argument("--duration", type=float, default=None, help="Real seconds to run (default: forever).")
        parser.add_argument(
            "--start",
            default="",
            help="Simulated start (ISO 8601 with offset). Default: now at speed 1, else so that the run ends now.",
        )
        parser.add_argument("--group", default="cnc-sim", help="Sparkplug group id.")
        parser.add_argument(
            "--mtconnect-port",
            type=int,
            default=DEFAULT_AGENT_PORT,
            help=f"Port of the MTConnect agent on 127.0.0.1 (default {DEFAULT_AGENT_PORT}; 0 picks a free one).",
        )
        parser.add_argument("--no-mtconnect", action="store_true", help="Do not serve the MTConnect agent.")
        parser.add_argument(
            "--opcua-port",
            type=int,
            default=DEFAULT_OPCUA_PORT,
            help=f"Port of the OPC UA server on 127.0.0.1 (default {DEFAULT_OPCUA_PORT}; 0 picks a free one).",
        )
        parser.add_argument("--no-opcua", action="store_true", help="Do not serve the OPC UA server.")

    def handle(self, *args: Any, **options: Any) -> None:
        speed: float = options["speed"]
        duration: float | None = options["duration"]
        if speed <= 0:
            raise CommandError("--speed must be positive.")
        start = self._start(options["start"], speed, duration)
        work_centers = simulated_work_centers(options["machines"])
        if not work_centers:
            raise CommandError("No active work centers to simulate: load the demo shop first (make demo).")
        specs = [spec_of(wc) for wc in work_centers]
        calendars = {wc.code: WorkCenterCalendar(wc) for wc in work_centers}

        url: str = options["broker"] or ("" if options["in_process"] else settings.MQTT_URL)
        make_sink: Callable[[OnCommand], Sink]
        if url:
            try:
                BrokerAddress.parse(url)
            except ValueError as exc:
                raise CommandError(str(exc)) from None

            def make_sink(on_command: OnCommand) -> Sink:
                return MqttSink(url, options["group"], on_command)

            target = url
        else:
            make_sink = _in_process_sink
            target = "the in-process ingest"

        agent = None
        if not options["no_mtconnect"]:
            laser = next((spec for spec in specs if spec.kind is Kind.LASER), specs[0])
            agent = SimulatedAgent(
                laser, instance_id=int(datetime.now(UTC).timestamp()), port=options["mtconnect_port"]
            )

        opcua = None
        if not options["no_opcua"]:
            served = served_machine(specs)
            model = next(wc.name for wc in work_centers if wc.code == served.code)
            opcua = SimulatedOpcUaServer(served, port=options["opcua_port"], model=model)

        try:
            simulator = Simulator(
                specs,
                lambda spec: calendars[spec.code],
                start=start,
                seed=options["seed"],
                make_sink=make_sink,
                group_id=options["group"],
                bd_seq=int(datetime.now(UTC).timestamp()) % 256,
                agent=agent,
                opcua=opcua,
            )
        except BrokerUnavailable as exc:
            raise CommandError(str(exc)) from None

        def stop(signum: int, frame: FrameType | None) -> None:
            raise Stop

        previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
        if agent is not None:
            agent.start()
            self.stdout.write(f"MTConnect agent for {agent.device} at {agent.url}")
        try:
            if opcua is not None:
                self._serve_opcua(opcua)
                self.stdout.write(f"OPC UA server for {opcua.device} at {opcua.endpoint}")
            self.stdout.write(
                f"simulating {len(specs)} machines in {len(simulator.emitter.nodes)} edge nodes to {target}, "
                f"from {start:%Y-%m-%d %H:%M} UTC at speed {speed:g}"
            )
            self.stdout.flush()
            stats = simulator.run(speed=speed, duration=duration)
        except Stop:
            stats = None
        except BrokerUnavailable as exc:
            raise CommandError(str(exc)) from None
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if agent is not None:
                agent.stop()
            if opcua is not None:
                opcua.close()
        if stats is not None:
            self.stdout.write(
                f"simulated {stats.started:%Y-%m-%d %H:%M} to {stats.ended:%Y-%m-%d %H:%M} UTC: "
                f"{stats.events} values in {stats.messages} messages, {stats.rebirths} rebirths answered"
            )

    @staticmethod
    def _serve_opcua(opcua: SimulatedOpcUaServer) -> None:
        # asyncua narrates every request at INFO, and logs a port already taken as an ERROR with a traceback
        # before raising it: the CommandError below says it in one line.
        logging.getLogger("asyncua").setLevel(logging.WARNING)
        starting = logging.getLogger("asyncua.server.server")
        level = starting.level
        starting.setLevel(logging.CRITICAL)
        try:
            opcua.start()
        except OSError as exc:
            raise CommandError(
                f"The OPC UA server cannot listen on 127.0.0.1:{opcua.port}: {exc.strerror or exc}. "
                "Is another simulator running? Pass --opcua-port or --no-opcua."
            ) from None
        finally:
            starting.setLevel(level)

    @staticmethod
    def _start(text: str, speed: float, duration: float | None) -> datetime:
        now = datetime.now(UTC).replace(microsecond=0)
        if text:
            moment = parse_datetime(text)
            if moment is None or moment.tzinfo is None:
                raise CommandError(f"--start {text!r} is not an ISO 8601 date and time with an offset.")
            return moment.astimezone(UTC)
        if speed <= 1:
            return now
        if duration is not None:
            return now - timedelta(seconds=duration * (speed - 1))
        return now - IN_PROCESS_BACKLOG
