"""``abc watch CAMPAIGN...``: a live view of campaigns through the notify service.

The price falls on screen in real time (drawn locally from the campaign's price curve), each
purchase appears as it lands with its lag (now minus the purchase time), and a dropped stream
reconnects with the last slot seen, so nothing is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import grpc

from services.api.abc.v1 import notify_pb2, notify_pb2_grpc
from services.journal import Campaign, price_at
from services.messages import campaign_of, purchase_of

from ._options import NOTIFY_TARGET, TOKEN, add_setting, described

MAX_RECONNECTS = 100  # consecutive failures before giving up


def register(commands: Any, _argv: Sequence[str]) -> None:
    p = commands.add_parser("watch", help="watch campaigns live (price, purchases, lag)",
                            description=described(__doc__))
    p.add_argument("campaigns", nargs="+", metavar="CAMPAIGN")
    add_setting(p, "--target", NOTIFY_TARGET, metavar="HOST:PORT")
    add_setting(p, "--token", TOKEN)
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--json", action="store_true", help="one JSON object per update")
    p.set_defaults(run=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_watch(args))
    except KeyboardInterrupt:
        return 0


async def _watch(args: argparse.Namespace) -> int:
    views: dict[str, Campaign] = {}  # each as its snapshot and the fills since have it
    deadline = None if args.duration is None else time.monotonic() + args.duration
    failures = 0
    ticker = None if args.json else asyncio.create_task(_tick(views))
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                await _stream(args, views, deadline)
                return 0
            except grpc.aio.AioRpcError as exc:
                if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT,
                                  grpc.StatusCode.UNAUTHENTICATED):
                    print(f"\nabc: {exc.code().name}: {exc.details()}", file=sys.stderr)
                    return 1
                failures += 1
                if failures > MAX_RECONNECTS:
                    print(f"\nabc: gave up after {MAX_RECONNECTS} failed reconnects",
                          file=sys.stderr)
                    return 1
                print(f"\nstream lost ({exc.code().name}); reconnecting...", file=sys.stderr)
                await asyncio.sleep(min(0.2 * failures, 2.0))
        return 0
    finally:
        if ticker is not None:
            ticker.cancel()


async def _stream(args: argparse.Namespace, views: dict[str, Campaign],
                  deadline: float | None) -> None:
    request = notify_pb2.WatchRequest(campaigns=[
        notify_pb2.WatchedCampaign(campaign_id=cid, resume_after_slot=views[cid].head)
        if cid in views else notify_pb2.WatchedCampaign(campaign_id=cid)
        for cid in args.campaigns])
    metadata = (("authorization", f"Bearer {args.token}"),) if args.token else ()
    async with grpc.aio.insecure_channel(args.target) as channel:
        call = notify_pb2_grpc.NotifyServiceStub(channel).Watch(request, metadata=metadata)
        while True:
            timeout = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                update = await asyncio.wait_for(call.read(), timeout)
            except TimeoutError:
                call.cancel()
                return
            if not isinstance(update, notify_pb2.WatchUpdate):
                return  # grpc.aio.EOF: the server ended the stream
            _show(update, views, args.json)


def _show(update: notify_pb2.WatchUpdate, views: dict[str, Campaign], as_json: bool) -> None:
    now = time.time_ns() // 1_000_000
    if update.HasField("snapshot"):
        s = update.snapshot
        views[s.campaign.campaign_id] = campaign_of(s)
        _emit(as_json, {"campaign": s.campaign.campaign_id, "snapshot": True, "head": s.head,
                        "price": s.current_price},
              f"{s.campaign.campaign_id}: head {s.head}, price {s.current_price}")
        return
    fill = update.fill
    views[fill.campaign_id] = views[fill.campaign_id].advanced(fill.slot, purchase_of(fill))
    lag = now - fill.bought_at_ms if not fill.void else 0
    what = "void (an interrupted purchase, fenced)" if fill.void else \
        f"bought by {fill.buyer_id} for {fill.price}"
    _emit(as_json, {"campaign": fill.campaign_id, "slot": fill.slot, "void": fill.void,
                    "buyer": fill.buyer_id, "price": fill.price, "lag_ms": lag,
                    "source": update.source},
          f"{fill.campaign_id}: slot {fill.slot} {what} [{update.source}, lag {lag} ms]")


def _emit(as_json: bool, record: dict[str, Any], text: str) -> None:
    print(json.dumps(record) if as_json else f"\r\033[K{text}", flush=True)


async def _tick(views: dict[str, Campaign]) -> None:
    """Redraw the falling prices ten times a second (a TTY only)."""
    if not sys.stdout.isatty():
        return
    while True:
        await asyncio.sleep(0.1)
        now = time.time_ns() // 1_000_000
        line = "  ".join(f"{cid}: price {price_at(c, now)}" for cid, c in views.items())
        print(f"\r\033[K{line}", end="", flush=True)
