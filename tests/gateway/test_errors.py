"""A refusal as the page says it: built from the statuses purchase really sends
(``refusal_of``, the servicer's own mapping), read back by the gateway's ``explain``."""

from __future__ import annotations

import grpc
import pytest
from grpc_status import rpc_status

from services.gateway._errors import Problem, explain
from services.journal import (
    AccountBusy,
    AlreadyExists,
    InsufficientFunds,
    InvalidInput,
    LostRace,
    Missing,
    PriceAboveMax,
)
from services.messages import Refusal
from services.purchase._errors import FILLER_FIELDS, refusal_of


def error_of(refusal: Refusal) -> grpc.aio.AioRpcError:
    """The error a grpc.aio client raises for ``refusal``, details in the trailer."""
    status = rpc_status.to_status(refusal.status())
    return grpc.aio.AioRpcError(status.code, grpc.aio.Metadata(),
                                grpc.aio.Metadata(*status.trailing_metadata), status.details, None)


def bare(code: grpc.StatusCode, details: str = "") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details, None)


@pytest.mark.parametrize(("outcome", "says", "status"), [
    (LostRace(7, 40), "Someone else bought slot 7 first. The price is now 40.", 409),
    (PriceAboveMax(80, 50), "The price is now 80, above your maximum.", 409),
    (InsufficientFunds(5, 20), "Your balance (5) is below the price (20). Add funds first.",
     409),
    (AccountBusy("alice"), "Your account is busy with another operation. Try again in a "
                           "moment.", 409),
    (Missing("campaign", "nope"), "No such campaign.", 404),
    (AlreadyExists("user", "alice"), "That user name is taken.", 409),
])
def test_a_refused_purchase_says_what_happened(outcome: object, says: str,
                                               status: int) -> None:
    problem = explain(error_of(refusal_of(outcome)))  # type: ignore[arg-type]
    assert (problem.message, problem.status) == (says, status)


def test_a_lost_race_carries_the_new_price() -> None:
    problem = explain(error_of(refusal_of(LostRace(3, 64))))
    assert (problem.reason, problem.current_price) == ("LOST_RACE", 64)


def test_bad_input_names_the_form_field_not_the_proto_field() -> None:
    refusal = refusal_of(InvalidInput("link", "want http or https"), FILLER_FIELDS)
    problem = explain(error_of(refusal))
    assert problem == Problem("Link: Want http or https.", 400, "INVALID_FIELD",
                              fields=("filler.link",))


@pytest.mark.parametrize(("code", "status", "says"), [
    (grpc.StatusCode.UNAVAILABLE, 503, "unavailable"),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "too long"),
    (grpc.StatusCode.UNIMPLEMENTED, 501, "not available on this server yet"),
    (grpc.StatusCode.UNAUTHENTICATED, 502, "refused this gateway's credentials"),
    (grpc.StatusCode.PERMISSION_DENIED, 502, "refused this gateway's credentials"),
    (grpc.StatusCode.INTERNAL, 500, "went wrong on our side"),
])
def test_the_services_failing_is_a_server_error_page(code: grpc.StatusCode, status: int,
                                                     says: str) -> None:
    problem = explain(bare(code, "Traceback (most recent call last): secret details"))
    assert problem.status == status
    assert says in problem.message
    assert "Traceback" not in problem.message
    assert problem.unavailable


def test_wrong_credentials_are_not_the_gateways_fault() -> None:
    refusal = Refusal(grpc.StatusCode.UNAUTHENTICATED, "BAD_CREDENTIALS", "bad credentials")
    assert explain(error_of(refusal)) == Problem("Wrong user name or password.", 401,
                                                 "BAD_CREDENTIALS")
