"""The operator's money policy, read one way from ``ABC_*`` settings, reaches the journal of
every wired process: a campaign created there carries the fee."""

from __future__ import annotations

import pytest

from services.journal import Campaign, Created, InvalidInput, Policy, campaign_key
from services.runtime import ConfigError
from services.wiring import policy_from_env, wire


def test_the_defaults_are_the_journals() -> None:
    assert policy_from_env({}) == Policy()


def test_each_setting_is_read_and_bounded() -> None:
    env = {"ABC_FEE_BPS": "250", "ABC_WITHDRAWAL_FEE": "7", "ABC_MIN_WITHDRAWAL": "100",
           "ABC_CREDIT_BATCH": "64", "ABC_MIN_CAMPAIGN_PRICE": "25"}
    assert policy_from_env(env) == Policy(250, 7, 100, 64, 25)
    for var, bad in (("ABC_FEE_BPS", "10001"), ("ABC_FEE_BPS", "-1"), ("ABC_FEE_BPS", "1.5"),
                     ("ABC_MIN_WITHDRAWAL", "0"), ("ABC_CREDIT_BATCH", "lots"),
                     ("ABC_MIN_CAMPAIGN_PRICE", "0"), ("ABC_MIN_CAMPAIGN_PRICE", "10**16")):
        with pytest.raises(ConfigError, match=var):
            policy_from_env({var: bad})


@pytest.mark.asyncio
async def test_a_wired_journal_creates_campaigns_with_the_operators_fee(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABC_FEE_BPS", "333")
    wiring = await wire("purchase", "memory://", None)
    journal = wiring.journal
    assert await journal.create_account("owner") == Created("user", "owner")
    assert await journal.create_campaign("c1", "owner", 10, 60) == Created("campaign", "c1")
    campaign = Campaign.from_json((await wiring.store.get(campaign_key("c1"))).value)
    assert campaign.fee_bps == 333
    await wiring.store.close()


@pytest.mark.asyncio
async def test_the_operators_floor_refuses_a_cheaper_campaign(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABC_MIN_CAMPAIGN_PRICE", "500")
    wiring = await wire("purchase", "memory://", None)
    journal = wiring.journal
    await journal.create_account("owner")
    refused = await journal.create_campaign("c1", "owner", 499, 60)
    assert isinstance(refused, InvalidInput) and refused.field == "min_price"
    assert "500" in refused.reason
    assert await journal.create_campaign("c1", "owner", 500, 60) == Created("campaign", "c1")
    await wiring.store.close()
