"""Built-in vendor payload mappings and the parsing of ``UCHET_MQTT_MAPPINGS``.

Each built-in cites the vendor document its topics and fields come from; docs/mqtt-payloads.md
has a worked example per family. Mappings are opt-in: the gateway subscribes to a mapping's
topic only when it is configured.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from core.errors import ConfigError
from core.payload import Mapping, ValueMap


def _ENERGY(path: str, channel: str, unit: str, **kw: Any) -> ValueMap:
    return ValueMap(path=path, channel=channel, unit=unit, **kw)


IMPORT, EXPORT = "1-0:1.8.0", "1-0:2.8.0"

BUILTIN_MAPPINGS: dict[str, Mapping] = {
    # Tasmota tele/<topic>/SENSOR, "Time" is device local time without an offset.
    # ENERGY (POW, Athom, ...): https://tasmota.github.io/docs/Power-Monitoring-Calibration/
    # SML with any group name (SML, MT175, Haus, ...): https://tasmota.github.io/docs/Smart-Meter-Interface/
    "tasmota": Mapping(
        name="tasmota",
        topic="tele/{meter}/SENSOR",
        ts="Time",
        values=[
            _ENERGY("ENERGY.Total", IMPORT, "kWh"),
            _ENERGY("*.Total_in", IMPORT, "kWh"),
            _ENERGY("*.Total_out", EXPORT, "kWh"),
        ],
    ),
    # Zigbee2MQTT zigbee2mqtt/<friendly name>, energy in kWh, last_seen when enabled.
    # https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
    "zigbee2mqtt": Mapping(
        name="zigbee2mqtt",
        topic="zigbee2mqtt/{meter}",
        ts="last_seen",
        values=[_ENERGY("energy", IMPORT, "kWh")],
    ),
    # Zigbee2MQTT attribute output: zigbee2mqtt/<friendly name>/<attribute> holds the value.
    # https://www.zigbee2mqtt.io/guide/configuration/mqtt.html (output: attribute)
    "zigbee2mqtt_attribute": Mapping(
        name="zigbee2mqtt_attribute",
        topic="zigbee2mqtt/{meter}/{attribute}",
        values=[_ENERGY("", IMPORT, "kWh", when_topic={"attribute": "energy"})],
    ),
    # Shelly Gen1 (EM, 3EM): shellies/<id>/emeter/<i>/total and total_returned, plain Wh.
    # https://shelly-api-docs.shelly.cloud/gen1/#shelly-em-mqtt
    "shelly_gen1": Mapping(
        name="shelly_gen1",
        topic="shellies/{meter}/emeter/{i}/{quantity}",
        meter="{meter}-{i}",
        values=[
            _ENERGY("", IMPORT, "Wh", when_topic={"quantity": "total"}),
            _ENERGY("", EXPORT, "Wh", when_topic={"quantity": "total_returned"}),
        ],
    ),
    # Shelly Gen2/Gen3 status: <id>/status/<component> (switch:0, em1data:0, emdata:0), Wh.
    # https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status
    # https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EMData#status
    "shelly_gen2": Mapping(
        name="shelly_gen2",
        topic="{meter}/status/{component}",
        meter="{meter}-{component}",
        values=[
            _ENERGY("aenergy.total", IMPORT, "Wh"),
            _ENERGY("ret_aenergy.total", EXPORT, "Wh"),
            _ENERGY("total_act", IMPORT, "Wh"),
            _ENERGY("total_act_ret", EXPORT, "Wh"),
            _ENERGY("total_act_energy", IMPORT, "Wh"),
            _ENERGY("total_act_ret_energy", EXPORT, "Wh"),
        ],
    ),
    # ESPHome <node>/sensor/<object id>/state, a plain number in the sensor's unit (kWh as
    # configured with total_daily_energy / pulse_meter total):
    # https://esphome.io/components/mqtt.html  https://esphome.io/components/sensor/total_daily_energy.html
    "esphome": Mapping(
        name="esphome",
        topic="{meter}/sensor/{sensor}/state",
        values=[
            _ENERGY("", IMPORT, "kWh", when_topic={"sensor": "total_energy"}),
            _ENERGY("", IMPORT, "kWh", when_topic={"sensor": "energy"}),
            _ENERGY("", EXPORT, "kWh", when_topic={"sensor": "total_energy_returned"}),
        ],
    ),
    # wmbusmeters wmbusmeters/<name>, the meter id in "id", UTC "timestamp".
    # https://github.com/wmbusmeters/wmbusmeters/blob/master/README.md (JSON output)
    "wmbusmeters": Mapping(
        name="wmbusmeters",
        topic="wmbusmeters/+",
        meter_path="id",
        ts="timestamp",
        values=[
            _ENERGY("total_m3", "cold_water", "m3", when={"media": "water"}),
            _ENERGY("total_m3", "cold_water", "m3", when={"media": "cold water"}),
            _ENERGY("total_m3", "hot_water", "m3", when={"media": "warm water"}),
            _ENERGY("total_m3", "hot_water", "m3", when={"media": "hot water"}),
            _ENERGY("total_m3", "gas", "m3", when={"media": "gas"}),
            _ENERGY("total_energy_consumption_kwh", IMPORT, "kWh", when={"media": "electricity"}),
            _ENERGY("total_energy_consumption_kwh", "heating", "kWh", when={"media": "heat"}),
        ],
    ),
}
BUILTIN_MAPPINGS["tasmota_sml"] = BUILTIN_MAPPINGS["tasmota"].model_copy(
    update={"name": "tasmota_sml"}
)
BUILTIN_MAPPINGS["tasmota_energy"] = BUILTIN_MAPPINGS["tasmota"].model_copy(
    update={"name": "tasmota_energy"}
)


def _names(text: str) -> list[object]:
    return [n.strip() for n in text.split(",") if n.strip()]


def parse_mappings(text: str | None, *, default_timezone: str, origin: str = "") -> list[Mapping]:
    """Mappings from inline JSON (a list of objects and/or names, or one object) or from
    comma-separated built-in names; ConfigError names the bad entry. Mappings without a
    ``ts_timezone`` get ``default_timezone``.
    """
    where = f"UCHET_MQTT_MAPPINGS{origin}"
    try:
        ZoneInfo(default_timezone)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"UCHET_TIMEZONE {default_timezone!r} is not a time zone") from exc
    if text is None or not text.strip():
        return []
    stripped = text.strip()
    doc: Any
    if stripped[0] in "[{":
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not valid JSON: {exc}") from exc
    else:
        doc = _names(stripped)
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise ConfigError(f"{where}: expected a list of mappings or built-in names")
    known = ", ".join(sorted(BUILTIN_MAPPINGS))
    result: list[Mapping] = []
    for i, entry in enumerate(doc):
        if isinstance(entry, str):
            if entry not in BUILTIN_MAPPINGS:
                raise ConfigError(
                    f"{where}: unknown built-in mapping {entry!r} (entry {i + 1}); known: {known}"
                )
            mapping = BUILTIN_MAPPINGS[entry]
        elif isinstance(entry, dict):
            try:
                mapping = Mapping.model_validate(entry)
            except ValidationError as exc:
                name = entry.get("name", f"entry {i + 1}")
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'mapping'}: {e['msg']}" for e in exc.errors()
                )
                raise ConfigError(f"{where}: mapping {name!r} is invalid: {problems}") from exc
        else:
            raise ConfigError(
                f"{where}: entry {i + 1} is {type(entry).__name__}, not a mapping or a name"
            )
        if mapping.ts_timezone is None:
            mapping = mapping.model_copy(update={"ts_timezone": default_timezone})
        result.append(mapping)
    seen: set[str] = set()
    for m in result:
        if m.name in seen:
            raise ConfigError(f"{where}: mapping {m.name!r} is given twice")
        seen.add(m.name)
    return result
