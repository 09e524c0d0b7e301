"""The project's exception root and the errors every layer shares.

UchetError
 ├── ConfigError          a setting is missing or wrong
 ├── PayloadError         a payload or record cannot be decoded (carries the reason code)
 ├── StoreError           the database refused or is unreachable (adapters map asyncpg errors here)
 ├── SourceError          a protocol source failed (broker, Modbus device, file)
 └── BillingError         a billing case or the billing data cannot be billed (names what is wrong)
"""

from __future__ import annotations


class UchetError(Exception):
    """Root of every error uchet raises on purpose."""


class ConfigError(UchetError):
    """A setting is missing, malformed or insecure."""


class PayloadError(UchetError):
    """A payload could not be turned into readings.

    ``reason`` is a stable code from :mod:`core.codes` (for example ``malformed``).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StoreError(UchetError):
    """The store failed; ``retryable`` says whether trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class SourceError(UchetError):
    """A source of readings (broker, device, file) failed."""


class BillingError(UchetError):
    """Data that cannot be billed; the message names the premise, meter or field."""
