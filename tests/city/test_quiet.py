"""amqtt's "Timeout waiting for PUBACK" tracebacks (10,191 of them in a city replay, issue #20)
become one count; every other record, amqtt's own included, still reaches the log."""

from __future__ import annotations

import io
import logging

from api.city.quiet import puback_timeouts


def _timeout(n: int) -> BaseException:
    try:
        raise TimeoutError(f"Timeout waiting for PUBACK for packet ID {n}")
    except TimeoutError as exc:
        return exc


def test_puback_timeouts_are_counted_not_logged() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    broker = logging.getLogger("amqtt.broker")
    try:
        with puback_timeouts() as seen:
            for n in range(3):
                exc = _timeout(n)
                broker.error("Task failed and will be skipped", exc_info=(type(exc), exc, None))
                logging.getLogger("amqtt.mqtt.protocol.handler").warning(
                    "Timeout waiting for PUBACK for packet ID %d", n
                )
            broker.error("Broadcast loop stopped by exception")
            logging.getLogger("uchet").warning("a warning of uchet")
        broker.error("Task failed and will be skipped", exc_info=(TimeoutError, _timeout(9), None))
    finally:
        root.removeHandler(handler)
    assert seen.count == 3
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["Broadcast loop stopped by exception", "a warning of uchet"]
    # after the block the filter is gone: the record is logged as before
    assert "Task failed and will be skipped" in lines[2]
    assert any("PUBACK for packet ID 9" in x for x in lines[3:])
