"""amqtt's "Timeout waiting for PUBACK" as a count, not 10,000 tracebacks.

The embedded amqtt broker gives up on a QoS 1 delivery whose PUBACK takes over 5 s (the
gateway busy writing a large batch) and logs a warning plus, from its broadcast loop, an
ERROR with the whole traceback ("Task failed and will be skipped"), once per message. A
replay counts them and says the count once; every other log record passes untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

MARK = "waiting for PUBACK"


class PubackTimeouts(logging.Filter):
    """Drops amqtt's PUBACK timeout records, counting the timeouts (one per message)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and MARK in str(exc):
            # the broker's traceback: one per timed-out message, counted once however many
            # handlers this filter sits on
            if not getattr(record, "puback_counted", False):
                record.puback_counted = True
                self.count += 1
            return False
        # the protocol handler's warning says the same thing again: dropped, not counted
        return not (record.name.startswith("amqtt") and MARK in record.getMessage())


@contextmanager
def puback_timeouts() -> Iterator[PubackTimeouts]:
    """Filters the root logger's handlers for the block; the filter's ``count`` is the
    number of timeouts seen."""
    f = PubackTimeouts()
    # the root's handlers (the CLI's), else Python's last resort (no logging configured)
    handlers: list[logging.Handler | None] = [*logging.getLogger().handlers] or [logging.lastResort]
    for h in handlers:
        if h is not None:
            h.addFilter(f)
    try:
        yield f
    finally:
        for h in handlers:
            if h is not None:
                h.removeFilter(f)


__all__ = ["PubackTimeouts", "puback_timeouts"]
