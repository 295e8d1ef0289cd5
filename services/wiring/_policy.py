"""The operator's money policy from ``ABC_*`` settings: the fee on each sale (fixed on each
campaign when it is created), the flat fee and the minimum of a withdrawal, the most slots
one credit op covers, the lowest price a campaign may be opened at. Every process of one
deployment must read the same values."""

from __future__ import annotations

import os

from services.journal import MAX_MONEY, Policy
from services.runtime import ConfigError, Environ, Setting

_DEFAULT = Policy()
FEE_BPS = Setting("ABC_FEE_BPS", str(_DEFAULT.fee_bps),
                  "the operator's fee on each sale, basis points (150 = 1.5%), fixed on each "
                  "campaign when it is created")
WITHDRAWAL_FEE = Setting("ABC_WITHDRAWAL_FEE", str(_DEFAULT.withdrawal_fee),
                         "a flat fee per withdrawal, minor units")
MIN_WITHDRAWAL = Setting("ABC_MIN_WITHDRAWAL", str(_DEFAULT.min_withdrawal),
                         "the smallest amount one withdrawal may take out, minor units")
CREDIT_BATCH = Setting("ABC_CREDIT_BATCH", str(_DEFAULT.credit_batch),
                       "the most slots one credit of a seller's shares covers")
MIN_CAMPAIGN_PRICE = Setting("ABC_MIN_CAMPAIGN_PRICE", str(_DEFAULT.min_campaign_price),
                             "the lowest min_price a new campaign may have, minor units (a "
                             "floor against selling slots for next to nothing)")
POLICY_SETTINGS = (FEE_BPS, WITHDRAWAL_FEE, MIN_WITHDRAWAL, CREDIT_BATCH, MIN_CAMPAIGN_PRICE)


def policy_from_env(env: Environ = os.environ) -> Policy:
    """The policy the ``ABC_*`` money settings give; ConfigError names a bad one."""
    policy = Policy(fee_bps=_bounded(FEE_BPS, env, 0, 10_000),
                    withdrawal_fee=_bounded(WITHDRAWAL_FEE, env, 0, MAX_MONEY),
                    min_withdrawal=_bounded(MIN_WITHDRAWAL, env, 1, MAX_MONEY),
                    credit_batch=_bounded(CREDIT_BATCH, env, 1, 100_000),
                    min_campaign_price=_bounded(MIN_CAMPAIGN_PRICE, env, 1, MAX_MONEY))
    return policy


def _bounded(setting: Setting, env: Environ, low: int, high: int) -> int:
    value = setting.integer(env)
    if value is None or not low <= value <= high:
        raise ConfigError(f"{setting.var}={setting.read(env)!r}: want a whole number from "
                          f"{low} to {high}")
    return value
