"""Start the gateway from a configuration file, or print the backlog of its buffer (`--status`).

Shared by `manage.py run_edge_gateway` and `python -m apps.telemetry.edge`; the latter needs neither
Django settings nor the MES database, which a shop-floor PC does not have.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from apps.telemetry.edge.buffer import Buffer
from apps.telemetry.edge.config import ConfigError, GatewayConfig, load_config
from apps.telemetry.edge.gateway import Gateway, describe
from apps.telemetry.edge.sources import build_source


def status(config: GatewayConfig) -> str:
    """The backlog, read beside a running gateway without disturbing it (WAL lets a reader in beside the writer)."""
    if not config.buffer.exists():
        return f"buffer {config.buffer}: does not exist yet (the gateway has not run)"
    buffer = Buffer(config.buffer)
    try:
        return f"buffer {config.buffer}: {describe(buffer.backlog(), config)}"
    finally:
        buffer.close()


def run(config: GatewayConfig, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    # A request line per poll (every second, per agent) would drown the backlog reports and alarms.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    buffer = Buffer(config.buffer)
    sources = [build_source(source, buffer.checkpoint(source.name)) for source in config.sources]
    Gateway(config, sources, buffer).run(stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.telemetry.edge", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="The gateway's TOML or JSON file.")
    parser.add_argument("--status", action="store_true", help="Print the buffer's backlog and exit.")
    options = parser.parse_args(argv)
    try:
        config = load_config(options.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if options.status:
        print(status(config))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s %(message)s")
    run(config)
    return 0
