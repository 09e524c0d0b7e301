"""Broker access through the URL: username/password, TLS; and vendor payload mappings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import aiomqtt
import asyncpg
import pytest

from api.runtime import migrate_url
from core.config import Settings
from tests.mqtt_tools import gateway, wait_for_stats
from tests.services import Mosquitto, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]
READING = {"channel": "cold_water", "ts": "2026-03-01T00:00:00Z", "value": 5.5, "unit": "m3"}


def _tls_files(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1, made with openssl."""
    ca_key, ca, key, csr, cert = (tmp / n for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem"))
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
        "-days",
        "2",
        "-subj",
        "/CN=uchet test CA",
    )
    run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=127.0.0.1",
    )
    ext = tmp / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return ca, cert, key  # fmt: skip


async def test_password_and_tls_from_the_url(db_url, tmp_path):
    await migrate_url(db_url)
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "meter-gw", "s3cr:t@"],
                   check=True, capture_output=True)  # fmt: skip
    ca, cert, key = _tls_files(tmp_path)
    tls_port = free_port()
    broker = Mosquitto(
        tmp_path / "broker",
        extra=(
            f"password_file {passwd}\n"
            f"listener {tls_port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        ),
    )
    broker.conf.write_text(
        broker.conf.read_text().replace("allow_anonymous true", "allow_anonymous false")
    )
    broker.start()
    try:
        url = f"mqtts://meter-gw:s3cr%3At%40@127.0.0.1:{tls_port}"
        settings = Settings(
            mqtt_url=url, mqtt_ca_file=ca, mqtt_client_id="gw-tls", batch_delay_s=0.05
        )
        async with gateway(settings, db_url):
            import ssl

            ctx = ssl.create_default_context(cafile=str(ca))
            async with aiomqtt.Client(
                "127.0.0.1", tls_port, username="meter-gw", password="s3cr:t@", tls_context=ctx
            ) as pub:
                await pub.publish("meters/tls1/readings", json.dumps(READING), qos=1)
            stats = await wait_for_stats(db_url, lambda s: s["readings"] >= 1)
        assert stats["readings"] == 1
        # the same broker refuses a wrong password: the client never gets in
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", broker.port, username="meter-gw",
                                      password="wrong") as c:  # fmt: skip
                await c.publish("meters/x/readings", b"{}", qos=1)
    finally:
        broker.stop()


async def test_tasmota_and_zigbee2mqtt_payloads_by_mapping(db_url, mosquitto, tmp_path):
    await migrate_url(db_url)
    mappings = tmp_path / "mappings.json"
    mappings.write_text(json.dumps(["tasmota_sml", "zigbee2mqtt"]))
    settings = Settings(
        mqtt_url=mosquitto.url, mqtt_mappings=mappings, mqtt_client_id="gw-map", batch_delay_s=0.05
    )
    async with gateway(settings, db_url):
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as pub:
            await pub.publish(
                "tele/flat7-meter/SENSOR",
                json.dumps({"Time": "2026-03-22T09:15:00",
                            "SML": {"Total_in": 12345.678, "Total_out": 1.5, "Power_curr": 350}}),
                qos=1,
            )  # fmt: skip
            await pub.publish(
                "zigbee2mqtt/kitchen plug",
                json.dumps({"energy": 3.25, "power": 12, "last_seen": "2026-03-22T09:16:00+03:00"}),
                qos=1,
            )
        await wait_for_stats(db_url, lambda s: s["readings"] >= 3)
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT m.external_id, m.channel, r.ts, r.value FROM readings r"
            " JOIN meters m ON m.id = r.meter_id ORDER BY 1, 2"
        )
    finally:
        await conn.close()
    got = [(r["external_id"], r["channel"], r["ts"].isoformat(), r["value"]) for r in rows]
    assert got == [
        ("flat7-meter", "1-0:1.8.0", "2026-03-22T06:15:00+00:00", 12345.678),  # Moscow time
        ("flat7-meter", "1-0:2.8.0", "2026-03-22T06:15:00+00:00", 1.5),
        ("kitchen plug", "1-0:1.8.0", "2026-03-22T06:16:00+00:00", 3.25),
    ]
