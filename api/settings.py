"""Settings of the HTTP API (``UCHET_API_*``), read once by ``uchet api`` and passed down."""

from __future__ import annotations

import logging
import secrets
from datetime import date
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from core.config import Settings
from core.errors import ConfigError

log = logging.getLogger(__name__)


class ApiSettings(Settings):
    """Everything of :class:`core.config.Settings` (one object per process), plus the API's
    secrets, token lifetime, rate and size limits and the submission window."""

    model_config = SettingsConfigDict(env_prefix="UCHET_", env_file=None, extra="ignore")

    api_secret: SecretStr | None = Field(
        default=None,
        description="key that signs resident tokens (≥ 32 characters); unset: a random key "
        "per process, so tokens end with the process",
    )
    api_token_ttl_s: int = Field(default=3600, ge=60, le=7 * 86400)
    api_login_per_minute: int = Field(default=10, ge=1, description="per account and per client")
    api_submit_per_minute: int = Field(default=30, ge=1, description="per resident account")
    api_max_body: int = Field(default=64 * 1024, ge=1024, description="bytes, JSON requests")
    api_max_upload: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="bytes, reference and 80020 uploads"
    )
    api_submission_days: str | None = Field(
        default=None,
        description="days of the month residents may submit readings, e.g. 15-25; unset: any",
    )
    api_max_reading_age_days: int = Field(
        default=45, ge=1, description="how far back a resident may date a reading"
    )
    api_batch_max: int = Field(default=512, ge=1, description="submissions per group commit")
    web_session_ttl_s: int = Field(
        default=8 * 3600, ge=300, le=30 * 86400, description="a session ends this long after login"
    )
    web_secure_cookie: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: Secure when the request came over https (behind a proxy, run uvicorn "
        "with --proxy-headers); always: for deployments behind TLS; never: plain-http tests",
    )
    web_offline_hours: int = Field(
        default=24, ge=1, le=24 * 90, description="a meter with no reading this long is offline"
    )
    api_docs: bool = Field(
        default=True,
        description="serve /docs (Swagger UI) and /redoc, from assets installed with the package",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.api_secret is not None and len(self.api_secret.get_secret_value()) < 32:
            raise ValueError("UCHET_API_SECRET must be at least 32 characters")
        self.window()  # fail at start, not at the first submission
        return self

    def signing_key(self) -> str:
        if self.api_secret is not None:
            return self.api_secret.get_secret_value()
        log.warning("UCHET_API_SECRET is not set: resident tokens end with this process")
        return secrets.token_urlsafe(48)

    def window(self) -> tuple[int, int] | None:
        """The submission window as (first day, last day) of the month, inclusive."""
        text = self.api_submission_days
        if not text:
            return None
        first, sep, last = text.partition("-")
        try:
            a, b = int(first), int(last if sep else first)
        except ValueError:
            raise ConfigError(
                f"UCHET_API_SUBMISSION_DAYS={text!r} is not FIRST-LAST (days, e.g. 15-25)"
            ) from None
        if not (1 <= a <= b <= 31):
            raise ConfigError(f"UCHET_API_SUBMISSION_DAYS={text!r}: need 1 <= FIRST <= LAST <= 31")
        return a, b

    @staticmethod
    def in_window(day: date, window: tuple[int, int] | None) -> bool:
        return window is None or window[0] <= day.day <= window[1]
