"""UCHET_MQTT_MAPPINGS parsing and the built-in vendor mappings, fed payloads written from the
vendors' public documentation (each test cites its page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.errors import ConfigError
from core.mappings import BUILTIN_MAPPINGS, parse_mappings
from core.payload import Mapping, Reading, Rejected, decode_mapped

RECEIVED = datetime(2026, 3, 22, 6, 0, tzinfo=UTC)


def decode(name: str, topic: str, payload: object, tz: str = "Europe/Moscow") -> list[object]:
    (mapping,) = parse_mappings(name, default_timezone=tz)
    return list(decode_mapped(payload, mapping, topic=topic, received=RECEIVED))


def rows(items: list[object]) -> list[tuple[str, str, str, float]]:
    out = []
    for r in items:
        assert isinstance(r, Reading), r
        out.append((r.meter, r.channel, r.ts.isoformat(), round(r.value, 6)))
    return out


# --- UCHET_MQTT_MAPPINGS ---------------------------------------------------------------


def test_inline_json_names_and_objects():
    custom = {
        "name": "mine",
        "topic": "plant/{meter}/kwh",
        "values": [{"path": "", "channel": "1-0:1.8.0", "unit": "kWh"}],
    }
    got = parse_mappings(json.dumps(["tasmota_sml", custom]), default_timezone="Asia/Yekaterinburg")
    assert [m.name for m in got] == ["tasmota_sml", "mine"]
    assert got[1].topic == "plant/+/kwh"
    assert {m.ts_timezone for m in got} == {"Asia/Yekaterinburg"}


def test_comma_separated_names():
    got = parse_mappings(" shelly_gen1, esphome ", default_timezone="UTC")
    assert [m.name for m in got] == ["shelly_gen1", "esphome"]


def test_unknown_name_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"unknown built-in mapping 'tasmota_smll'.*known: "):
        parse_mappings('["tasmota_smll"]', default_timezone="UTC")
    with pytest.raises(ConfigError, match="'nope'"):
        parse_mappings("esphome,nope", default_timezone="UTC")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"name": "x", "topic": "a/+/b", "values": []}, "no meter"),
        ({"name": "x", "topic": "a/{meter}", "values": [], "extra": 1}, "extra"),
        (
            {
                "name": "x",
                "topic": "a/{meter}",
                "meter": "{m}-{i}",
                "values": [{"path": "v", "channel": "electricity"}],
            },
            "names no level",
        ),
        (
            {
                "name": "x",
                "topic": "a/{meter}",
                "ts_timezone": "Mars/Olympus",
                "values": [{"path": "v", "channel": "electricity"}],
            },
            "not a time zone",
        ),
    ],
)
def test_bad_mapping_is_a_config_error_naming_it(entry, says):
    with pytest.raises(ConfigError, match=f"mapping 'x' is invalid.*{says}"):
        parse_mappings(json.dumps([entry]), default_timezone="UTC")


def test_bad_json_and_duplicates():
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_mappings('["esphome"', default_timezone="UTC")
    with pytest.raises(ConfigError, match="given twice"):
        parse_mappings("esphome,esphome", default_timezone="UTC")
    with pytest.raises(ConfigError, match="entry 1 is int"):
        parse_mappings("[5]", default_timezone="UTC")
    assert parse_mappings("  ", default_timezone="UTC") == []
    with pytest.raises(ConfigError, match="UCHET_TIMEZONE 'Mars/Olympus'"):
        parse_mappings("esphome", default_timezone="Mars/Olympus")


def test_old_meter_level_mappings_still_work():
    m = Mapping.model_validate(
        {
            "name": "old",
            "topic": "tele/+/SENSOR",
            "meter_level": 1,
            "values": [{"path": "E", "channel": "electricity"}],
        }
    )
    (r,) = decode_mapped({"E": 5}, m, topic="tele/dev1/SENSOR", received=RECEIVED)
    assert isinstance(r, Reading) and r.meter == "dev1" and r.ts == RECEIVED


# --- Tasmota --------------------------------------------------------------------------


def test_tasmota_energy_pow_in_device_time_zone():
    # https://tasmota.github.io/docs/Power-Monitoring-Calibration/ (tele SENSOR of a POW)
    payload = {
        "Time": "2026-03-22T09:15:00",
        "ENERGY": {
            "TotalStartTime": "2025-12-14T12:34:56",
            "Total": 12.345,
            "Yesterday": 0.9,
            "Today": 0.3,
            "Period": 0,
            "Power": 45,
            "ApparentPower": 60,
            "ReactivePower": 40,
            "Factor": 0.75,
            "Voltage": 229,
            "Current": 0.262,
        },
    }
    got = decode("tasmota", "tele/athom-plug/SENSOR", payload, tz="Asia/Yekaterinburg")
    assert rows(got) == [("athom-plug", "1-0:1.8.0", "2026-03-22T04:15:00+00:00", 12.345)]
    got = decode("tasmota", "tele/athom-plug/SENSOR", payload, tz="Europe/Kaliningrad")
    assert rows(got)[0][2] == "2026-03-22T07:15:00+00:00"


@pytest.mark.parametrize("group", ["SML", "MT175", "Haus", "E320", "Strom"])
def test_tasmota_sml_any_group_name(group):
    # https://tasmota.github.io/docs/Smart-Meter-Interface/ (meter definitions name the group)
    payload = {
        "Time": "2026-03-22T09:15:00",
        group: {"Total_in": 16739.3, "Total_out": 1.1, "Power_curr": 345},
    }
    got = decode("tasmota_sml", "tele/tasmota_4A2B/SENSOR", payload)
    assert rows(got) == [
        ("tasmota_4A2B", "1-0:1.8.0", "2026-03-22T06:15:00+00:00", 16739.3),
        ("tasmota_4A2B", "1-0:2.8.0", "2026-03-22T06:15:00+00:00", 1.1),
    ]


def test_tasmota_without_energy_yields_nothing():
    # a temperature sensor's tele message: the caller quarantines it as no_reading
    payload = {"Time": "2026-03-22T09:15:00", "DS18B20": {"Temperature": 21.4}, "TempUnit": "C"}
    assert decode("tasmota", "tele/t1/SENSOR", payload) == []


# --- Shelly ---------------------------------------------------------------------------


def test_shelly_gen1_plain_number_topics():
    # https://shelly-api-docs.shelly.cloud/gen1/#shelly-em-mqtt : emeter/<i>/total Wh
    got = decode("shelly_gen1", "shellies/shellyem-B9F3A4/emeter/1/total", 123456.7)
    assert rows(got) == [("shellyem-B9F3A4-1", "1-0:1.8.0", RECEIVED.isoformat(), 123.4567)]
    got = decode("shelly_gen1", "shellies/shellyem-B9F3A4/emeter/0/total_returned", 500)
    assert rows(got) == [("shellyem-B9F3A4-0", "1-0:2.8.0", RECEIVED.isoformat(), 0.5)]
    assert decode("shelly_gen1", "shellies/shellyem-B9F3A4/emeter/0/voltage", 229.1) == []


def test_shelly_gen1_non_number_is_malformed_with_raw_payload():
    (m,) = parse_mappings("shelly_gen1", default_timezone="UTC")
    (r,) = decode_mapped(
        "n/a", m, topic="shellies/em1/emeter/0/total", received=RECEIVED, raw=b"n/a"
    )
    assert isinstance(r, Rejected) and r.reason == "malformed" and r.payload == b"n/a"
    assert r.meter == "em1-0"


def test_shelly_gen2_switch_and_emdata():
    # https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status
    switch = {
        "id": 0,
        "source": "timer",
        "output": False,
        "apower": 0.0,
        "voltage": 225.9,
        "current": 0.0,
        "aenergy": {"total": 11679.0, "by_minute": [0.0, 0.0, 0.0], "minute_ts": 1654511208},
        "temperature": {"tC": 53.3, "tF": 127.9},
    }
    got = decode("shelly_gen2", "shellyplus1pm-441793d69718/status/switch:0", switch)
    assert rows(got) == [
        ("shellyplus1pm-441793d69718-switch:0", "1-0:1.8.0", RECEIVED.isoformat(), 11.679)
    ]
    # https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EMData#status
    emdata = {
        "id": 0,
        "a_total_act_energy": 1000.5,
        "a_total_act_ret_energy": 0,
        "b_total_act_energy": 900,
        "b_total_act_ret_energy": 0,
        "c_total_act_energy": 876,
        "c_total_act_ret_energy": 0,
        "total_act": 2776.5,
        "total_act_ret": 12,
    }
    got = decode("shelly_gen2", "shellypro3em-c8f09e8840a4/status/emdata:0", emdata)
    assert [(r[1], r[3]) for r in rows(got)] == [("1-0:1.8.0", 2.7765), ("1-0:2.8.0", 0.012)]
    assert decode("shelly_gen2", "shellypro3em-c8f09e8840a4/status/sys", {"uptime": 5}) == []


# --- ESPHome, Zigbee2MQTT, wmbusmeters ----------------------------------------------------


def test_esphome_sensor_state():
    # https://esphome.io/components/mqtt.html : <topic_prefix>/sensor/<object_id>/state
    got = decode("esphome", "flat12-meter/sensor/total_energy/state", 1234.567)
    assert rows(got) == [("flat12-meter", "1-0:1.8.0", RECEIVED.isoformat(), 1234.567)]
    assert decode("esphome", "flat12-meter/sensor/wifi_signal/state", -60) == []


def test_zigbee2mqtt_json_and_attribute_mode():
    # https://www.zigbee2mqtt.io/devices/TS011F_plug_1.html (exposes energy kWh)
    got = decode(
        "zigbee2mqtt",
        "zigbee2mqtt/kitchen plug",
        {
            "energy": 3.25,
            "power": 12,
            "state": "ON",
            "linkquality": 120,
            "last_seen": 1774159800000,
        },
    )
    assert rows(got) == [("kitchen plug", "1-0:1.8.0", "2026-03-22T06:10:00+00:00", 3.25)]
    # https://www.zigbee2mqtt.io/guide/configuration/mqtt.html : output: attribute
    got = decode("zigbee2mqtt_attribute", "zigbee2mqtt/kitchen plug/energy", 3.25)
    assert rows(got) == [("kitchen plug", "1-0:1.8.0", RECEIVED.isoformat(), 3.25)]
    assert decode("zigbee2mqtt_attribute", "zigbee2mqtt/kitchen plug/state", "ON") == []


def test_wmbusmeters_water_electricity_heat():
    # https://github.com/wmbusmeters/wmbusmeters (README, JSON output of multical21 etc.)
    water = {
        "media": "cold water",
        "meter": "multical21",
        "name": "MyTapWater",
        "id": "76348799",
        "total_m3": 6.408,
        "target_m3": 6.408,
        "max_flow_m3h": 0,
        "flow_temperature_c": 12,
        "current_status": "DRY",
        "timestamp": "2026-03-22T05:07:22Z",
    }
    got = decode("wmbusmeters", "wmbusmeters/MyTapWater", water)
    assert rows(got) == [("76348799", "cold_water", "2026-03-22T05:07:22+00:00", 6.408)]
    el = {
        "media": "electricity",
        "meter": "amiplus",
        "name": "MyEl",
        "id": "10101010",
        "total_energy_consumption_kwh": 15517.2,
        "current_power_consumption_kw": 0.5,
        "timestamp": "2026-03-22T05:07:22Z",
    }
    assert rows(decode("wmbusmeters", "wmbusmeters/MyEl", el))[0][:2] == ("10101010", "1-0:1.8.0")
    heat = {
        "media": "heat",
        "meter": "multical302",
        "name": "H",
        "id": "67676767",
        "total_energy_consumption_kwh": 1163.0,
        "timestamp": "2026-03-22T05:07:22Z",
    }
    (h,) = rows(decode("wmbusmeters", "wmbusmeters/H", heat))
    assert h[1] == "heating" and h[3] == pytest.approx(1.0, rel=1e-3)  # 1163 kWh ~ 1 Gcal


def test_wmbusmeters_without_id_is_malformed():
    (r,) = decode("wmbusmeters", "wmbusmeters/x", {"media": "water", "total_m3": 1.0})
    assert isinstance(r, Rejected) and r.reason == "malformed" and "id" in r.detail


def test_every_builtin_is_a_valid_mapping():
    for name, m in BUILTIN_MAPPINGS.items():
        assert m.name == name
        assert Mapping.model_validate(m.model_dump()) == m
