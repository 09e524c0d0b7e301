"""paho-mqtt rebuilds the constant tables of MQTT 5 ``Properties`` for every packet.

``Properties.__init__`` (paho-mqtt 2.x) builds a 27-entry name table, a 27-entry property
table and 27 ``list.index`` look-ups per instance, and paho makes one instance per incoming
PUBLISH: a tenth of the gateway's CPU at 228,000 readings/s in arrays of 100, more per reading
for single-reading messages. The tables are constants that paho only reads, so
:func:`share_property_tables` makes every instance use one copy of them; nothing else about
``Properties`` changes (``tests/ingest/test_paho_tables.py`` checks the tables and a round trip
of every property kind against paho's own constructor).
"""

from __future__ import annotations

from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_ORIGINAL_INIT = Properties.__init__


def share_property_tables() -> None:
    """Makes ``Properties(...)`` share its constant tables (idempotent, process-wide)."""
    if Properties.__init__ is not _ORIGINAL_INIT:
        return
    template = Properties(PacketTypes.PUBLISH)
    types, names, properties = template.types, template.names, template.properties
    set_attribute = object.__setattr__

    def __init__(self: Any, packetType: int) -> None:
        set_attribute(self, "packetType", packetType)
        set_attribute(self, "types", types)
        set_attribute(self, "names", names)
        set_attribute(self, "properties", properties)

    Properties.__init__ = __init__  # type: ignore[method-assign]


def original_properties(packet_type: int) -> Properties:
    """A ``Properties`` built by paho's own constructor (for comparison in tests)."""
    props = Properties.__new__(Properties)
    _ORIGINAL_INIT(props, packet_type)
    return props
