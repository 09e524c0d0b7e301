"""The one settings object, built once at the entry point and passed down.

Environment variables ``UCHET_*`` (see ``spec/interfaces.md``), or the same keys in
``$UCHET_HOME/uchet.env``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # numpy comes with core.vee: imported when the settings are asked for
    from core.vee.settings import VeeSettings


class Settings(BaseSettings):
    """Everything uchet can be told; defaults run the embedded demo."""

    model_config = SettingsConfigDict(env_prefix="UCHET_", env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL DSN; unset: embedded PostgreSQL under home"
    )
    mqtt_url: str | None = Field(
        default=None, description="mqtt://[user:pass@]host:port (mqtts:// for TLS); unset: none"
    )
    home: Path = Field(default=Path(".uchet"), description="embedded data, inbox, config")
    timezone: str = Field(default="Europe/Moscow", description="billing and file time zone")

    # MQTT source
    mqtt_topic_prefix: str = "meters"
    mqtt_client_id: str = "uchet-gateway"
    mqtt_shared_group: str | None = Field(
        default=None, description="MQTT 5 shared subscription group ($share/<group>/...)"
    )
    mqtt_qos: Literal[0, 1] = 1
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        default="5", description="MQTT protocol version; 3.1.1 for brokers without MQTT 5"
    )
    mqtt_receive_maximum: int = Field(
        default=5_000,
        description="MQTT 5 Receive Maximum: unacknowledged messages the broker may send",
    )
    mqtt_session_expiry_s: int = Field(
        default=604_800,
        ge=0,
        description="MQTT 5 session expiry: how long the broker keeps a gateway's queued"
        " messages (and a dead shared-group member's share) while it is away",
    )
    mqtt_ca_file: Path | None = Field(
        default=None, description="CA certificate(s) to trust for mqtts:// (default: system)"
    )
    mqtt_mappings: str | Path | None = Field(
        default=None,
        description="vendor payload mappings: inline JSON (a list of mapping objects and/or"
        " built-in names), a path to such a JSON file, or comma-separated built-in names"
        " (docs/mqtt-payloads.md)",
    )

    # Modbus source
    modbus_devices: Path | None = Field(
        default=None, description="JSON device list to poll (adapters/modbus/README.md)"
    )

    health_interval_s: float = Field(
        default=10.0, description="how often the gateway saves polled devices' health"
    )
    health_port: int | None = Field(
        default=None, ge=1, le=65535, description="gateway /health and /metrics port; unset: off"
    )
    health_host: str = Field(default="127.0.0.1", description="address of the health port")

    # Registry and validation
    unknown_meters: Literal["register", "quarantine"] = Field(
        default="register",
        description="register unknown meters as unbound (default) or quarantine unknown_meter",
    )
    clock_tolerance_s: float = Field(
        default=300.0, ge=0, description="readings further ahead of now are future_timestamp"
    )
    backfill_days: int = Field(
        default=400,
        ge=1,
        le=36_500,
        description="readings older than this many days are too_old, from every source",
    )
    value_ceiling: float = Field(
        default=1e10, gt=0, description="values above this are value_too_large, any source"
    )

    # ASKUE files
    askue_inbox_interval_s: float = Field(
        default=5.0, description="look into $UCHET_HOME/inbox/askue this often; 0: never"
    )
    askue_max_bytes: int = 50 * 1024 * 1024
    askue_timeout_s: float = 60.0

    # Batch VEE: the gateway's schedule, `uchet vee` and the city replay take the same settings
    vee_interval_s: float = Field(
        default=3600.0, description="run batch VEE of the current period this often; 0: never"
    )
    vee: dict[str, bool | int | float] = Field(
        default_factory=dict,
        description="VEE thresholds other than the defaults (core/vee/settings.py), JSON:"
        " UCHET_VEE='{\"missing_gap_hours\": 48}'",
    )
    vee_chunk_houses: int = Field(
        default=10,
        ge=1,
        description="batch VEE loads, assesses and writes this many houses at once",
    )

    @field_validator("vee")
    @classmethod
    def _known_vee_settings(
        cls, value: dict[str, bool | int | float]
    ) -> dict[str, bool | int | float]:
        from dataclasses import fields

        from core.vee.settings import VeeSettings

        known = {f.name for f in fields(VeeSettings)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown VEE settings {unknown}; known: {sorted(known)}")
        return value

    def vee_settings(self, **overrides: bool | int | float) -> VeeSettings:
        """The VEE settings every runner uses: the defaults, then ``vee``, then ``overrides``
        (a command's options)."""
        from core.vee.settings import VeeSettings

        return VeeSettings(**{**self.vee, **overrides})  # type: ignore[arg-type]

    # Pipeline
    batch_size: int = 10_000
    batch_delay_s: float = 0.2
    queue_readings: int = 100_000
