"""Command-line arguments the plant's management commands share."""

from __future__ import annotations

import argparse
from datetime import datetime

from apps.machines.selectors import plant_time_zone


def plant_datetime(text: str) -> datetime:
    """An ISO 8601 date and time for `--now`; without an offset it is plant time (PLANT_TIME_ZONE)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: write ISO 8601, such as 2026-11-23T06:00 (plant time) "
            "or 2026-11-23T12:00+00:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=plant_time_zone())


NOW_HELP = (
    "Run as if it were this moment (ISO 8601; without an offset, plant time), e.g. 2026-11-23T06:00, "
    "so that a demo load and its benchmark can be repeated; default: now."
)
