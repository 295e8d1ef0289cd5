"""The price rule (docs/protocol.md, "Price"): with ``last`` = the last real purchase at price P,
bought at t1, whose slot ends at x2, the price is ``min_price`` if there is no ``last`` or
``now >= x2``; otherwise it falls on a straight line from 2P at t1 to ``min_price`` at x2,
in integer arithmetic, rounded up. A new slot starts at ``max(now, last.end)`` and lasts
``slot_seconds``.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.journal import Campaign, Purchase, price_at, slot_window

T1 = 1_000_000


def campaign(min_price: int, last: Purchase | None = None, slot_seconds: int = 60) -> Campaign:
    return Campaign("owner", min_price, slot_seconds, head=0 if last is None else last.slot,
                    last=last)


def bought(price: int, at: int = T1, end: int = T1 + 60_000, start: int | None = None) -> Purchase:
    return Purchase(1, price, at, at if start is None else start, end)


def test_no_last_purchase_costs_min_price() -> None:
    assert price_at(campaign(100), T1) == 100


def test_once_the_last_slot_has_ended_the_price_is_min() -> None:
    c = campaign(100, bought(500, end=T1 + 60_000))
    assert price_at(c, T1 + 60_000) == 100
    assert price_at(c, T1 + 10**9) == 100


def test_at_the_moment_of_the_last_purchase_the_price_is_double() -> None:
    assert price_at(campaign(100, bought(500)), T1) == 1000


def test_halfway_the_price_is_the_midpoint_rounded_up() -> None:
    # From 2P = 10 at t1 to min = 1 at t1 + 4: halfway, exactly 5.5, which rounds up to 6.
    c = campaign(1, bought(5, end=T1 + 4))
    assert price_at(c, T1 + 2) == 6
    # A quarter of the way: 10 - 9/4 = 7.75 -> 8; three quarters: 10 - 27/4 = 3.25 -> 4.
    assert price_at(c, T1 + 1) == 8
    assert price_at(c, T1 + 3) == 4


def test_the_line_runs_to_the_end_of_the_slot_not_of_the_purchase() -> None:
    # A slot queued behind others starts later than it was bought: the line still runs from
    # the purchase (t1) to where that slot ends (x2).
    c = campaign(100, bought(500, at=T1, start=T1 + 60_000, end=T1 + 120_000))
    assert price_at(c, T1 + 60_000) == 550  # halfway from 1000 to 100


def test_never_below_min_price() -> None:
    # A last price below half the minimum (a raised minimum, say) never undercuts it.
    c = campaign(100, bought(10))
    assert price_at(c, T1) == 100
    assert price_at(c, T1 + 30_000) == 100


def test_a_slot_starts_now_when_nothing_is_queued() -> None:
    assert slot_window(campaign(100, slot_seconds=60), T1) == (T1, T1 + 60_000)
    ended = campaign(100, bought(500, end=T1 - 1), slot_seconds=60)
    assert slot_window(ended, T1) == (T1, T1 + 60_000)


def test_a_slot_starts_when_the_last_one_ends() -> None:
    queued = campaign(100, bought(500, end=T1 + 45_000), slot_seconds=30)
    assert slot_window(queued, T1) == (T1 + 45_000, T1 + 75_000)


# The property: within [min, max(2P, min)], non-increasing in now, and on the line (rounded up).

moments = st.integers(min_value=0, max_value=10**7)


@st.composite
def priced(draw: st.DrawFn) -> tuple[Campaign, Purchase]:
    min_price = draw(st.integers(min_value=1, max_value=10**9))
    price = draw(st.integers(min_value=1, max_value=10**9))
    at = draw(moments)
    end = at + draw(st.integers(min_value=0, max_value=10**7))
    last = bought(price, at=at, end=end)
    return campaign(min_price, last), last


@given(priced(), moments, moments)
def test_price_stays_in_range_and_never_rises_as_time_passes(
    world: tuple[Campaign, Purchase], now1: int, now2: int
) -> None:
    c, last = world
    early, late = sorted((now1, now2))
    top = max(2 * last.price, c.min_price)
    assert c.min_price <= price_at(c, early) <= top
    assert c.min_price <= price_at(c, late) <= top
    assert price_at(c, early) >= price_at(c, late)


@given(priced(), moments)
def test_price_is_the_line_rounded_up(world: tuple[Campaign, Purchase], now: int) -> None:
    c, last = world
    if last.bought_at < now < last.end:
        top = 2 * last.price
        exact = top - Fraction((top - c.min_price) * (now - last.bought_at),
                               last.end - last.bought_at)
        assert price_at(c, now) == max(math.ceil(exact), c.min_price)
