"""Request and response bodies of the API (pydantic v2). Money and volumes are decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

PERIOD_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"  # YYYY-MM, years 1900–2199
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"  # ASCII digits only (\d matches any digit)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Model):
    account: str = Field(min_length=1, max_length=64, description="лицевой счёт")
    password: str = Field(min_length=1, max_length=256)


class Token(_Model):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds")


class Me(_Model):
    account: str
    premise: str
    house: str
    address: str | None
    area: str = Field(pattern=DECIMAL_PATTERN, description="m²")


class ReadingOut(_Model):
    ts: datetime
    value: float = Field(description="in the meter's unit")
    flags: list[str] = Field(description="quality flags, e.g. manual, implausible_rate")


class MeterOut(_Model):
    id: int
    serial: str = Field(description="the meter's id as its source names it")
    service: str
    channel: str
    unit: str
    last_reading: ReadingOut | None


class SubmitReading(_Model):
    value: float = Field(
        allow_inf_nan=False,
        ge=-1e12,
        le=1e12,
        description="the register's value in the meter's unit (m³, kWh, Gcal)",
    )
    taken_at: AwareDatetime | None = Field(
        default=None, description="when the value was read off; default: now"
    )
    confirm: bool = Field(
        default=False,
        description="the resident confirms an unusual value (answered 409"
        " confirmation-required without it)",
    )


class CorrectReading(_Model):
    value: float = Field(
        allow_inf_nan=False,
        ge=0,
        le=1e12,
        description="the value the resident's last reading should have had",
    )


class SubmissionResult(_Model):
    status: Literal["accepted", "flagged", "duplicate", "corrected"]
    meter_id: int
    value: float
    taken_at: datetime
    flags: list[str]
    detail: str | None = Field(default=None, description="for the resident, in Russian")


class AccrualLine(_Model):
    service: str
    method: str = Field(description="meter, normative, average, recalculation, soi, ...")
    volume: str = Field(pattern=DECIMAL_PATTERN)
    tariff: str = Field(pattern=DECIMAL_PATTERN, description="₽ per unit")
    coefficient: str = Field(pattern=DECIMAL_PATTERN)
    amount: str = Field(pattern=DECIMAL_PATTERN, description="₽, two decimals")
    explanation: str = Field(description="how the line was computed, in Russian")


class PeriodAccruals(_Model):
    period: str = Field(pattern=PERIOD_PATTERN)
    total: str = Field(pattern=DECIMAL_PATTERN, description="₽")
    lines: list[AccrualLine]


class Health(_Model):
    status: Literal["ok"]


class Ready(_Model):
    status: Literal["ready"]
    readings: str = Field(description="physical form of the readings table")
