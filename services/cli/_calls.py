"""What every thin gRPC client command shares (``abc account|...|withdraw|payouts|ledger``):
the connection options, a subcommand that makes one call (or a few, for pages) and shows the
response, and the explanation of a refusal.

Readable output by default, ``--json`` for scripts. Exit 0 on success, 1 when the service
refused (the status and its reason are printed), 2 for usage errors or an unreachable service.
A command may end with another code for an answer that is bad news (``abc ledger``: 1 when
the books do not balance).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from grpc_status import rpc_status

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc

from ._options import TARGET, TLS_CA, TOKEN, add_setting

Stub = purchase_pb2_grpc.PurchaseServiceStub
Call = Callable[[Stub, argparse.Namespace], Message]
Show = Callable[[Any], str]
Verdict = Callable[[Any], int]
TIMEOUT_S = 30.0


def connection_options(parser: argparse.ArgumentParser) -> None:
    add_setting(parser, "--target", TARGET, metavar="HOST:PORT")
    add_setting(parser, "--token", TOKEN)
    add_setting(parser, "--tls-ca", TLS_CA, type=Path, metavar="PEM")
    parser.add_argument("--json", action="store_true", help="print the response as JSON")


def command(group: Any, name: str, help_: str, call: Call, show: Show,
            verdict: Verdict | None = None, description: str | None = None
            ) -> argparse.ArgumentParser:
    """Subcommand ``name`` of ``group``: ``call`` the purchase service, print ``show`` of the
    response (or its JSON), and exit 0, or ``verdict`` of the response when given."""
    parser: argparse.ArgumentParser = group.add_parser(
        name, help=help_, description=description or help_)
    connection_options(parser)
    parser.set_defaults(run=lambda args: run_call(args, call, show, verdict))
    return parser


def call_options(args: argparse.Namespace) -> dict[str, Any]:
    """A call's metadata (the bearer token) and timeout."""
    metadata = (("authorization", f"Bearer {args.token}"),) if args.token else ()
    return {"metadata": metadata, "timeout": TIMEOUT_S}


def _channel(args: argparse.Namespace) -> grpc.Channel:
    if args.tls_ca is None:
        return grpc.insecure_channel(args.target)
    credentials = grpc.ssl_channel_credentials(args.tls_ca.read_bytes())
    return grpc.secure_channel(args.target, credentials)


def run_call(args: argparse.Namespace, call: Call, show: Show,
             verdict: Verdict | None = None) -> int:
    with _channel(args) as channel:
        try:
            response = call(purchase_pb2_grpc.PurchaseServiceStub(channel), args)
        except grpc.RpcError as exc:
            return explain(exc, args.target)
    if args.json:
        print(json_format.MessageToJson(response, preserving_proto_field_name=True))
    else:
        print(show(response))
    return 0 if verdict is None else verdict(response)


def explain(exc: grpc.RpcError, target: str) -> int:
    """Print why the call failed; 2 for an unreachable service, 1 for a refusal."""
    code: grpc.StatusCode = exc.code()
    details: str = exc.details() or ""
    if code is grpc.StatusCode.UNAVAILABLE and "connect" in details.lower():
        print(f"abc: can't reach the purchase service at {target} (is 'abc up' running?)",
              file=sys.stderr)
        return 2
    print(f"abc: {code.name}: {details}", file=sys.stderr)
    status = rpc_status.from_call(exc) if isinstance(exc, grpc.Call) else None
    details_list: list[Any] = list(status.details) if status is not None else []
    for detail in details_list:
        rejection, refusal = pb.BuyRejection(), pb.WithdrawalRejection()
        if detail.Unpack(rejection):
            print(f"  reason {pb.BuyRejection.Reason.Name(rejection.reason)}, current price "
                  f"{rejection.current_price}", file=sys.stderr)
        elif detail.Unpack(refusal):
            print(f"  reason {pb.WithdrawalRejection.Reason.Name(refusal.reason)}"
                  + _refusal_detail(refusal), file=sys.stderr)
    return 1


def _refusal_detail(refusal: pb.WithdrawalRejection) -> str:
    if refusal.reason == pb.WithdrawalRejection.INSUFFICIENT_FUNDS:
        return f", balance {refusal.balance}, needed {refusal.needed}"
    if refusal.reason == pb.WithdrawalRejection.WRONG_STATE:
        return f", state {refusal.state}, wanted {' or '.join(refusal.wanted)}"
    return ""


P = TypeVar("P", bound=Message)


def pages(fetch: Callable[[int, str], P], items: Callable[[P], Sequence[Any]], limit: int,
          page_size: int) -> tuple[list[Any], str, P | None]:
    """Fetch pages (``fetch(size, token)``) until ``limit`` items or the last page: the
    items, the token to go on from (empty: none), and the last page."""
    found: list[Any] = []
    token, page = "", None
    for _ in range(limit):  # every page but the last brings at least one item
        left = limit - len(found)
        page = fetch(min(left, page_size), token)
        found.extend(items(page)[:left])
        token = page.next_page_token  # type: ignore[attr-defined]
        if not token or len(found) >= limit:
            break
    return found, token, page
