"""``uchet mqtt try``: the dry run prints what the gateway would store or quarantine, and why."""

from __future__ import annotations

import json

import pytest

from api.cli import main

AT = "2026-03-22T07:00:00+00:00"


def run(capsys, *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["mqtt", "try", "--json", "--received", AT, *args])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_tasmota_energy_would_be_stored_in_the_configured_zone(capsys, monkeypatch):
    monkeypatch.setenv("UCHET_TIMEZONE", "Asia/Yekaterinburg")
    payload = '{"Time":"2026-03-22T11:15:00","ENERGY":{"Total":12.3,"Power":45}}'
    code, out = run(
        capsys, "--topic", "tele/athom/SENSOR", "--payload", payload, "--mappings", "tasmota"
    )
    assert code == 0
    assert [(e["action"], e["meter"], e["ts"], e["value"], e["via"]) for e in out] == [
        ("store", "athom", "2026-03-22T06:15:00+00:00", 12.3, "mapping tasmota")
    ]


def test_no_reading_future_and_malformed_are_quarantine_with_reasons(capsys):
    code, out = run(
        capsys,
        "--topic",
        "shellies/em1/emeter/0/voltage",
        "--payload",
        "229.1",
        "--mappings",
        "shelly_gen1",
    )
    assert code == 1
    assert [(e["action"], e["reason"], e["payload"]) for e in out] == [
        ("quarantine", "no_reading", "229.1")
    ]
    future = '{"Time":"2026-03-23T11:15:00","SML":{"Total_in":1}}'
    code, out = run(
        capsys, "--topic", "tele/x/SENSOR", "--payload", future, "--mappings", '["tasmota_sml"]'
    )
    assert (code, out[0]["reason"], out[0]["via"]) == (1, "future_timestamp", "mapping tasmota_sml")
    code, out = run(capsys, "--topic", "meters/m1/readings", "--payload", "{not json")
    assert (code, out[0]["reason"], out[0]["via"]) == (1, "malformed", "canonical (meters/...)")


def test_canonical_payload_and_text_output(capsys):
    payload = '{"channel":"cold_water","ts":"2026-03-22T06:00:00Z","value":5.5,"unit":"m3"}'
    code = main(
        ["mqtt", "try", "--received", AT, "--topic", "meters/kv12/readings", "--payload", payload]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert text.startswith("store       kv12 cold_water 2026-03-22T06:00:00+00:00 5.5")
    assert "[canonical (meters/...)]" in text


def test_unknown_mapping_is_one_line_error(capsys):
    code = main(["mqtt", "try", "--topic", "a/b", "--payload", "1", "--mappings", "shelly"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown built-in mapping 'shelly'" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["yesterday", "2026-03-22T07:00:00"])
def test_bad_received_time(capsys, bad):
    assert main(["mqtt", "try", "--topic", "a", "--payload", "1", "--received", bad]) == 2


@pytest.mark.mqtt
def test_subscribe_tries_each_message_on_a_real_broker(capsys, mosquitto):
    import paho.mqtt.publish as publish

    for topic, payload in [
        ("shellies/em1/emeter/0/total", "2000"),
        ("shellies/em1/emeter/1/total", "oops"),
    ]:
        publish.single(topic, payload, retain=True, hostname="127.0.0.1", port=mosquitto.port)
    code, out = run(
        capsys,
        "--subscribe",
        "1.5",
        "--url",
        mosquitto.url,
        "--topic",
        "shellies/+/emeter/+/total",
        "--mappings",
        "shelly_gen1",
    )
    assert code == 0
    got = sorted((e["topic"], e["action"], e.get("reason"), e["meter"]) for e in out)
    assert got == [
        ("shellies/em1/emeter/0/total", "store", None, "em1-0"),
        ("shellies/em1/emeter/1/total", "quarantine", "malformed", "em1-1"),
    ]
    assert [e["value"] for e in out if e["action"] == "store"] == [2.0]


def test_subscribe_without_a_broker_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.delenv("UCHET_MQTT_URL", raising=False)
    assert main(["mqtt", "try", "--subscribe", "1", "--topic", "#"]) == 2
    assert "needs a broker" in capsys.readouterr().err
