"""Thin gRPC clients for people: ``abc account|campaign|filler|buy|login`` (what every such
command shares is in ``_calls``; passwords are read by ``_passwords``).

Readable output by default, ``--json`` for scripts. Exit 0 on success, 1 when the service
refused (the status and its reason are printed), 2 for usage errors or an unreachable service.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2

from ._calls import call_options as _kw
from ._calls import command as _command
from ._passwords import READING, guard, new_password


def register(commands: Any, _argv: Sequence[str]) -> None:
    account = commands.add_parser("account", help="create, fund and show accounts")
    accounts = account.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _command(accounts, "create", "open an account with balance 0",
                 lambda s, a: s.CreateAccount(pb.CreateAccountRequest(
                     user_id=a.user, password=new_password() if a.with_password else ""),
                     **_kw(a)),
                 lambda r: f"account {r.user_id}: balance {r.balance}")
    p.add_argument("user")
    p.add_argument("--with-password", action="store_true",
                   help="give it a password (8 to 256 characters; without one, only the "
                        "operator's 'abc password set' can add one later). "
                        + READING.replace("%", "%%"))
    guard(p)
    p = _command(accounts, "deposit", "credit an account (operator token)", _deposit,
                 lambda r: f"{'deposited' if r.applied else 'already applied, nothing changed'}"
                           f"; balance {r.balance}")
    p.add_argument("user")
    p.add_argument("amount", type=int, help="minor units")
    p.add_argument("--deposit-id", help="idempotency key: repeat it to retry safely "
                                        "(default: a new one, printed)")
    p = _command(accounts, "show", "an account's balance",
                 lambda s, a: s.GetAccount(pb.GetAccountRequest(user_id=a.user), **_kw(a)),
                 _show_account)
    p.add_argument("user")

    p = _command(commands, "login", "log in: settle any interrupted operation on the account",
                 lambda s, a: s.Login(pb.LoginRequest(user_id=a.user), **_kw(a)),
                 lambda r: f"{pb.LoginResponse.Resolution.Name(r.resolution).lower()}; "
                           + _show_account(r.account))
    p.add_argument("user")

    campaign = commands.add_parser("campaign", help="create and show campaigns")
    campaigns = campaign.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _command(campaigns, "create", "open a campaign", _create_campaign,
                 lambda r: f"campaign {r.campaign_id} of {r.owner_id}: min price {r.min_price}, "
                           f"slots of {r.slot_seconds} s" + _ad_size_shown(r))
    p.add_argument("campaign")
    p.add_argument("--owner", required=True, help="an existing user")
    p.add_argument("--min-price", type=int, required=True, help="minor units")
    p.add_argument("--slot-seconds", type=int, required=True)
    p.add_argument("--ad-size", type=_ad_size, default=(0, 0), metavar="WxH",
                   help="the ad size in pixels (each 1 to 4096, e.g. 300x250): only fillers "
                        "whose image is exactly this size can be bought there (default: any)")
    p = _command(campaigns, "show", "a campaign's head, price and current slot",
                 lambda s, a: s.GetCampaign(types_pb2.GetCampaignRequest(campaign_id=a.campaign),
                                            **_kw(a)), _show_campaign)
    p.add_argument("campaign")

    filler = commands.add_parser("filler", help="upload ads")
    fillers = filler.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _command(fillers, "upload", "upload an ad (immutable once uploaded)", _upload,
                 _show_filler)
    p.add_argument("user")
    p.add_argument("filler")
    p.add_argument("--text", required=True, help="plain text, 1 to 500 characters")
    p.add_argument("--link", default="", help="an http(s) URL (default: none)")
    p.add_argument("--image-file", type=_image_file, default=b"", metavar="PATH",
                   help="a PNG, JPEG, GIF or WebP image (at most 262144 bytes, each side "
                        "at most 4096 pixels), sent as is and checked by the service")
    p.add_argument("--content-type", default="", metavar="TYPE",
                   help="the image's media type, e.g. image/png (default: read from the "
                        "image); the service refuses one that does not match")

    p = _command(commands, "buy", "buy the next slot of a campaign", _buy, _show_bought)
    p.add_argument("user")
    p.add_argument("campaign")
    p.add_argument("--max-price", type=int, required=True, help="the most to pay, minor units")
    p.add_argument("--filler", default="", help="one of the user's fillers")
    p.add_argument("--keep-trying", action="store_true",
                   help="on a lost race, go on to the next slot within max price")


def _deposit(stub: purchase_pb2_grpc.PurchaseServiceStub, a: argparse.Namespace) -> Message:
    if a.deposit_id is None:
        a.deposit_id = uuid.uuid4().hex
        print(f"deposit id {a.deposit_id} (repeat it with --deposit-id to retry safely)",
              file=sys.stderr)
    return stub.Deposit(pb.DepositRequest(user_id=a.user, deposit_id=a.deposit_id,
                                          amount=a.amount), **_kw(a))


def _create_campaign(stub: purchase_pb2_grpc.PurchaseServiceStub, a: argparse.Namespace
                     ) -> Message:
    width, height = a.ad_size
    return stub.CreateCampaign(pb.CreateCampaignRequest(
        campaign_id=a.campaign, owner_id=a.owner, min_price=a.min_price,
        slot_seconds=a.slot_seconds, ad_width=width, ad_height=height), **_kw(a))


def _ad_size(text: str) -> tuple[int, int]:
    width, x, height = text.lower().partition("x")
    if not (x and width.isdecimal() and height.isdecimal()):
        raise argparse.ArgumentTypeError(f"{text!r}: want WIDTHxHEIGHT in pixels, e.g. 300x250")
    return int(width), int(height)


def _ad_size_shown(r: types_pb2.Campaign) -> str:
    return f", ads of {r.ad_width}x{r.ad_height}" if r.ad_width else ""


def _image_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"can't read {path}: {exc.strerror}") from None


def _upload(stub: purchase_pb2_grpc.PurchaseServiceStub, a: argparse.Namespace) -> Message:
    filler = types_pb2.Filler(user_id=a.user, filler_id=a.filler, text=a.text, link=a.link,
                              image=a.image_file, content_type=a.content_type)
    return stub.UploadFiller(pb.UploadFillerRequest(filler=filler), **_kw(a))


def _show_filler(r: types_pb2.Filler) -> str:
    image = f", {r.content_type} {r.width}x{r.height}" if r.content_type else ", no image"
    return f"filler {r.filler_id} of {r.user_id}: {r.text!r}{image}"


def _buy(stub: purchase_pb2_grpc.PurchaseServiceStub, a: argparse.Namespace) -> Message:
    return stub.Buy(pb.BuyRequest(user_id=a.user, campaign_id=a.campaign, max_price=a.max_price,
                                  filler_id=a.filler, keep_trying=a.keep_trying), **_kw(a))


def _show_account(r: pb.Account) -> str:
    return f"account {r.user_id}: balance {r.balance}" + (" (locked)" if r.locked else "")


def _show_campaign(r: types_pb2.CampaignView) -> str:
    c = r.campaign
    lines = [f"campaign {c.campaign_id} of {c.owner_id}: head {r.head}, price now "
             f"{r.current_price} (min {c.min_price}), slots of {c.slot_seconds} s"
             + _ad_size_shown(c)]
    if r.curve.HasField("last"):
        last = r.curve.last
        lines.append(f"  last purchase: slot {last.slot} at {last.price}")
    if r.HasField("current_slot"):
        s = r.current_slot
        ad = f": {r.current_filler.text!r}" if r.HasField("current_filler") else ""
        lines.append(f"  showing now: slot {s.slot} bought by {s.buyer_id}{ad}")
    return "\n".join(lines)


def _show_bought(r: pb.BuyResponse) -> str:
    balance = f"balance {r.balance}" if r.HasField("balance") else "balance settles shortly"
    return f"bought slot {r.slot.slot} of {r.slot.campaign_id} for {r.slot.price}; {balance}"
