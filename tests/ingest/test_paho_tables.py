"""Shared MQTT 5 property tables behave exactly as paho's own per-instance ones."""

from __future__ import annotations

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import MQTTException, Properties

import adapters.mqtt  # noqa: F401  (installs the shared tables, as the gateway does)
from adapters.paho_tables import original_properties, share_property_tables


def _publish_props() -> Properties:
    p = Properties(PacketTypes.PUBLISH)
    p.PayloadFormatIndicator = 1  # Byte
    p.MessageExpiryInterval = 3600  # Four Byte Integer
    p.TopicAlias = 7  # Two Byte Integer
    p.ContentType = "application/json"  # UTF-8 string
    p.CorrelationData = b"\x00\x01corr"  # Binary Data
    p.UserProperty = ("vendor", "sml")  # UTF-8 String Pair, several allowed
    p.UserProperty = ("fw", "1.2")
    p.SubscriptionIdentifier = 300  # Variable Byte Integer
    return p


def test_the_tables_are_paho_s_own_and_shared() -> None:
    share_property_tables()  # idempotent
    a, b = Properties(PacketTypes.PUBLISH), Properties(PacketTypes.CONNECT)
    assert a.names is b.names and a.properties is b.properties  # one copy
    for packet_type in (PacketTypes.PUBLISH, PacketTypes.CONNECT, PacketTypes.CONNACK):
        fresh, original = Properties(packet_type), original_properties(packet_type)
        assert fresh.packetType == original.packetType == packet_type
        assert fresh.types == original.types
        assert fresh.names == original.names
        assert fresh.properties == original.properties


def test_every_property_kind_round_trips() -> None:
    packed = _publish_props().pack()
    decoded = Properties(PacketTypes.PUBLISH)
    decoded.unpack(packed[:])
    reference = original_properties(PacketTypes.PUBLISH)
    reference.unpack(packed[:])
    assert decoded.json() == reference.json()
    assert decoded.UserProperty == [("vendor", "sml"), ("fw", "1.2")]
    assert decoded.CorrelationData == b"\x00\x01corr"
    assert decoded.SubscriptionIdentifier == [300]
    assert decoded.pack() == packed


def test_properties_still_refuse_what_paho_refuses() -> None:
    p = Properties(PacketTypes.PUBLISH)
    with pytest.raises(MQTTException):
        p.ReceiveMaximum = 10  # a CONNECT property, not a PUBLISH one
    with pytest.raises(MQTTException):
        p.NoSuchProperty = 1
