"""The operator audience of the logs: WARNING and up, in plain words, kept in the database.

Code that has something to tell the people running the shop logs it on the `operator` logger
(or a child such as `operator.telemetry`); supervisors read it in the log panel. Developer and
technical audiences are plain logging handlers configured in settings.LOGGING.
"""

from __future__ import annotations

import logging
import sys

operator_log = logging.getLogger("operator")


class OperatorLogHandler(logging.Handler):
    """Stores records in core.OperatorLogRecord; never raises into the code that logged."""

    def emit(self, record: logging.LogRecord) -> None:
        from django.db import DatabaseError, connection

        from .models import OperatorLogRecord

        # A record logged inside a transaction that is already broken cannot be written there;
        # it still reaches the developer and technical handlers through propagation.
        if connection.in_atomic_block and connection.needs_rollback:
            return
        try:
            OperatorLogRecord.objects.create(
                level=record.levelname,
                source=record.name,
                message=record.getMessage()[:4000],
                request_id=str(getattr(record, "correlation_id", "") or "")[:64],
            )
        except DatabaseError as exc:
            sys.stderr.write(f"operator log record not stored: {exc}\n")
