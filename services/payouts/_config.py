"""Which rail pays withdrawals, from ``ABC_PAYOUT_*`` (``services/runtime/_settings.py``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from services.runtime import ConfigError, Environ
from services.runtime._settings import (
    PAYOUT_LEASE_MS,
    PAYOUT_RAIL,
    PAYOUT_TIMEOUT_MS,
    PAYOUT_WEBHOOK_URL,
)

from ._rail import ManualRail, PayoutRail
from ._webhook import Endpoint, WebhookConfigError, WebhookRail

RAILS = ("manual", "webhook")


class PayoutConfigError(ConfigError):
    pass


@dataclass(frozen=True)
class PayoutConfig:
    """rail: one of RAILS; webhook_url: for the webhook rail; timeout_ms: one call's bound;
    lease_ms: how old a claim or a request grows before any payer drives it."""

    rail: str = "manual"
    webhook_url: str | None = None
    timeout_ms: int = 5000
    lease_ms: int = 30_000

    def __post_init__(self) -> None:
        if self.rail not in RAILS:
            raise PayoutConfigError(
                f"{PAYOUT_RAIL.var}={self.rail!r}: want one of {', '.join(RAILS)}")
        if not 100 <= self.timeout_ms <= 120_000:
            raise PayoutConfigError(f"{PAYOUT_TIMEOUT_MS.var}={self.timeout_ms}: want 100 to "
                                    "120000 ms")
        if not 1000 <= self.lease_ms <= 3_600_000:
            raise PayoutConfigError(f"{PAYOUT_LEASE_MS.var}={self.lease_ms}: want 1000 to "
                                    "3600000 ms")
        if self.rail == "webhook":
            if self.webhook_url is None:
                raise PayoutConfigError(f"{PAYOUT_RAIL.var}=webhook needs "
                                        f"{PAYOUT_WEBHOOK_URL.var}")
            try:
                Endpoint.parse(self.webhook_url)
            except WebhookConfigError as exc:
                raise PayoutConfigError(f"{PAYOUT_WEBHOOK_URL.var}: {exc}") from None

    @classmethod
    def from_env(cls, env: Environ = os.environ) -> PayoutConfig:
        return cls(PAYOUT_RAIL.text(env), PAYOUT_WEBHOOK_URL.read(env),
                   PAYOUT_TIMEOUT_MS.integer(env) or 0, PAYOUT_LEASE_MS.integer(env) or 0)


def make_rail(config: PayoutConfig) -> PayoutRail:
    if config.rail == "webhook":
        assert config.webhook_url is not None  # checked by the config
        return WebhookRail(config.webhook_url, config.timeout_ms)
    return ManualRail()
