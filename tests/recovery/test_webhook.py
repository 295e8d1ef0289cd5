"""The webhook rail against a real HTTP payment system on loopback (``services.lab.payments``),
alone and driven by a payer: a payment; an answer too slow for the timeout; a connection
dropped unanswered; a refusal; a 5xx and a dead address. Whatever goes wrong, the withdrawal
stays paying until an answer comes, every call carries the same Idempotency-Key, and the
payment system pays each key once."""

from __future__ import annotations

import socket

import pytest

from services.journal import PayoutState
from services.lab.payments import Mood, payment_system
from services.payouts import (
    NoAnswer,
    Paid,
    PayoutConfig,
    PayoutConfigError,
    PayoutOrder,
    Refused,
    WebhookRail,
    answer_of,
    make_rail,
)
from services.payouts._webhook import Reply
from services.recovery import Payer

from ._money import Clock, journal_on, state_of, with_withdrawals, withdrawal

ORDER = PayoutOrder("alice", "w1", 100, 2, "IBAN-alice", "alice:w1")
TIMEOUT_MS = 300


@pytest.mark.asyncio
async def test_a_payment_is_paid_once_with_its_reference() -> None:
    with payment_system() as system:
        rail = WebhookRail(system.url, TIMEOUT_MS)
        assert await rail.pay(ORDER) == Paid("pay-1")
        assert await rail.pay(ORDER) == Paid("pay-1")  # a repeat: the same answer
    assert system.deliveries == {"alice:w1": 2} and system.payments == {"alice:w1": "pay-1"}
    assert system.bodies[0] == {"user_id": "alice", "withdrawal_id": "w1", "amount": 100,
                                "fee": 2, "destination": "IBAN-alice"}


@pytest.mark.asyncio
async def test_an_answer_beyond_the_timeout_is_no_answer_and_a_retry_gets_it() -> None:
    with payment_system(Mood.SLOW_FIRST, delay_s=0.8) as system:
        rail = WebhookRail(system.url, TIMEOUT_MS)
        assert await rail.pay(ORDER) == NoAnswer(f"no answer within {TIMEOUT_MS} ms")
        assert await rail.pay(ORDER) == Paid("pay-1")
    assert system.deliveries["alice:w1"] == 2 and len(system.payments) == 1


@pytest.mark.asyncio
async def test_a_connection_dropped_unanswered_is_no_answer() -> None:
    with payment_system(Mood.DIES_FIRST) as system:
        rail = WebhookRail(system.url, TIMEOUT_MS)
        answer = await rail.pay(ORDER)
        assert isinstance(answer, NoAnswer) and "RemoteDisconnected" in answer.detail
        assert await rail.pay(ORDER) == Paid("pay-1")
    assert system.deliveries["alice:w1"] == 2 and len(system.payments) == 1


@pytest.mark.asyncio
async def test_a_4xx_is_a_refusal_with_its_reason() -> None:
    with payment_system(Mood.REFUSES) as system:
        answer = await WebhookRail(system.url, TIMEOUT_MS).pay(ORDER)
    assert answer == Refused("HTTP 422: destination account closed")
    assert system.payments == {}


@pytest.mark.asyncio
async def test_a_5xx_or_nobody_listening_is_no_answer() -> None:
    with payment_system(Mood.FAILS) as system:
        assert isinstance(await WebhookRail(system.url, TIMEOUT_MS).pay(ORDER), NoAnswer)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    answer = await WebhookRail(f"http://127.0.0.1:{port}/payouts", TIMEOUT_MS).pay(ORDER)
    assert isinstance(answer, NoAnswer)


def test_what_an_http_answer_says() -> None:
    assert answer_of(Reply(201, b'{"reference": "r-9"}')) == Paid("r-9")
    assert answer_of(Reply(400, b"no such account")) == Refused("HTTP 400: no such account")
    for unsure in (Reply(200, b"{}"), Reply(200, b"not json"), Reply(200, b'{"reference": ""}'),
                   Reply(302, b""), Reply(408, b""), Reply(409, b""), Reply(429, b""),
                   Reply(500, b'{"reason": "down"}')):
        assert isinstance(answer_of(unsure), NoAnswer), unsure


def test_the_config_picks_the_rail() -> None:
    assert make_rail(PayoutConfig()).name == "manual"
    env = {"ABC_PAYOUT_RAIL": "webhook", "ABC_PAYOUT_WEBHOOK_URL": "https://pay.example/p",
           "ABC_PAYOUT_TIMEOUT_MS": "2000"}
    rail = make_rail(PayoutConfig.from_env(env))
    assert isinstance(rail, WebhookRail) and rail.timeout_ms == 2000
    for bad in ({"ABC_PAYOUT_RAIL": "webhook"},
                {"ABC_PAYOUT_RAIL": "webhook", "ABC_PAYOUT_WEBHOOK_URL": "ftp://x/y"},
                {"ABC_PAYOUT_RAIL": "webhook", "ABC_PAYOUT_WEBHOOK_URL": "https://u:p@x/y"},
                {"ABC_PAYOUT_RAIL": "carrier-pigeon"},
                {"ABC_PAYOUT_TIMEOUT_MS": "5"}):
        with pytest.raises(PayoutConfigError):
            PayoutConfig.from_env(bad)


@pytest.mark.parametrize("mood", [Mood.PAYS, Mood.SLOW_FIRST, Mood.DIES_FIRST])
@pytest.mark.asyncio
async def test_a_payer_pays_through_the_webhook_once_whatever_the_line_does(
        mood: Mood) -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    with payment_system(mood, delay_s=0.8) as system:
        payer = Payer(journal, WebhookRail(system.url, TIMEOUT_MS), 0, 1)
        await payer.tick()
        if mood is not Mood.PAYS:
            assert await state_of(journal, "w1") is PayoutState.PAYING  # in doubt: kept
            assert payer.counters.unanswered == 1
            clock.now += 1000  # the first backoff
            await payer.tick()
        paid = await withdrawal(journal, "w1")
        clock.now += 60_000
        await payer.tick()  # paid is final: no more deliveries
    assert paid.state is PayoutState.PAID and paid.reference == "pay-1"
    assert system.payments == {"alice:w1": "pay-1"}  # paid once
    assert system.deliveries["alice:w1"] == (1 if mood is Mood.PAYS else 2)
    assert await journal.audit(quiescent=True) == []


@pytest.mark.asyncio
async def test_a_payer_records_a_refusal_and_the_payment_system_pays_nothing() -> None:
    journal = journal_on()
    await with_withdrawals(journal, "w1")
    with payment_system(Mood.REFUSES) as system:
        await Payer(journal, WebhookRail(system.url, TIMEOUT_MS), 0, 1).tick()
    failed = await withdrawal(journal, "w1")
    assert failed.state is PayoutState.FAILED
    assert failed.reason == "HTTP 422: destination account closed"
    assert system.payments == {} and system.deliveries["alice:w1"] == 1
    assert await journal.audit(quiescent=True) == []
