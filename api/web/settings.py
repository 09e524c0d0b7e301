"""Settings of the web pages (``UCHET_WEB_*``): session lifetime, the Secure cookie flag, when a
meter counts as offline. Read with every other setting into the process's one
:class:`api.settings.ApiSettings`; this is the pages' view of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from api.settings import ApiSettings


class WebSettings(BaseModel):
    session_ttl_s: int = 8 * 3600
    secure_cookie: Literal["auto", "always", "never"] = "auto"
    offline_hours: int = 24

    @classmethod
    def of(cls, settings: ApiSettings) -> WebSettings:
        return cls(
            session_ttl_s=settings.web_session_ttl_s,
            secure_cookie=settings.web_secure_cookie,
            offline_hours=settings.web_offline_hours,
        )
