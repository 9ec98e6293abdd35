import logging
import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telemetry.ingest import SUBSCRIPTIONS, IngestWorker

DEFAULT_CLIENT_ID = "cnc-copilot-ingest"


class Command(BaseCommand):
    help = (
        "Consume machine telemetry from the MQTT broker (Sparkplug B under spBv1.0/#, JSON under shopfloor/#) "
        "into the sample table. Keep the client id fixed: the broker holds unacknowledged messages for it."
    )

    # The system checks import every URLconf, view and admin: seconds of start-up a worker restart does not need.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--broker", default="", help="mqtt://[user:password@]host:port (default: MQTT_URL).")
        parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="Persistent MQTT session id.")
        parser.add_argument(
            "--topic",
            action="append",
            dest="topics",
            help=f"Subscription filter, repeatable (default: {' and '.join(SUBSCRIPTIONS)}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url: str = options["broker"] or settings.MQTT_URL
        if not url:
            raise CommandError("No MQTT broker configured: set MQTT_URL or pass --broker mqtt://host:1883.")
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        try:
            worker = IngestWorker(url, options["client_id"], subscriptions=options["topics"] or SUBSCRIPTIONS)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        # Never print the URL itself: it may carry a password.
        where = f"{worker.address.host}:{worker.address.port}"
        try:
            worker.start()
        except (OSError, TimeoutError) as exc:
            raise CommandError(f"MQTT broker {where} is not reachable: {exc}") from None

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"ingesting from {where} as {options['client_id']}")
        self.stdout.flush()
        worker.run()
        self.stdout.write(
            f"stopped: {worker.stored.inserted} samples stored, {worker.stored.duplicates} duplicates, "
            f"{worker.dead_letters} dead letters"
        )
