"""Settings of the web pages (``UCHET_WEB_*``): session lifetime and the Secure cookie flag."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UCHET_WEB_", env_file=None, extra="ignore")

    session_ttl_s: int = Field(
        default=8 * 3600, ge=300, le=30 * 86400, description="a session ends this long after login"
    )
    secure_cookie: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: Secure when the request came over https (behind a proxy, run uvicorn "
        "with --proxy-headers); always: for deployments behind TLS; never: plain-http tests",
    )
    offline_hours: int = Field(
        default=24, ge=1, le=24 * 90, description="a meter with no reading this long is offline"
    )
