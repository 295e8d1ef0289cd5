"""A store for a test, and a world to buy in, made through a purchase service's API.

``open_world`` takes the client stub of a purchase service running in the test's event loop,
or the address of one running as a process (it then connects for the world's calls, and a
synchronous test runs it with ``run_blocking``). Its calls carry no traceparent: in the
tracing tests each is a trace of its own, which the tests ignore.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2

if TYPE_CHECKING:  # the async stub exists in the generated .pyi only
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as PurchaseStub

CALL_TIMEOUT_S = 10
FUNDS = 10**13
"""What each buyer gets by default: enough for ~40 doublings of a 1-unit price."""

KITES = types_pb2.Filler(user_id="alice", filler_id="f1", text="Buy our kites",
                         link="https://kites.example")
"""alice's ad, for a world where she buys with a filler."""


def store_url(tmp_path: Path) -> str:
    """A sqlite URL for a file in ``tmp_path`` (absolute, so four slashes)."""
    path = (tmp_path / "abc.db").resolve()
    assert path.is_absolute()
    return f"sqlite:///{path}"


async def open_world(
    purchase: PurchaseStub | str, *, owner: str = "owner", buyers: Iterable[str] = ("alice",),
    funds: int = FUNDS, campaigns: Iterable[str] = ("c1",), min_price: int = 1,
    slot_seconds: int = 60, filler: types_pb2.Filler | None = None,
) -> None:
    """``owner`` with nothing, each of ``buyers`` with ``funds`` (deposit ``d1``), every one
    of ``campaigns`` owned by ``owner`` at ``min_price`` with ``slot_seconds`` slots, and
    ``filler`` uploaded if given. ``purchase``: a stub, or a ``host:port`` to connect to."""
    if isinstance(purchase, str):
        async with grpc.aio.insecure_channel(purchase) as channel:
            await open_world(purchase_pb2_grpc.PurchaseServiceStub(channel), owner=owner,
                             buyers=buyers, funds=funds, campaigns=campaigns,
                             min_price=min_price, slot_seconds=slot_seconds, filler=filler)
        return
    stub, buyers = purchase, list(buyers)
    for uid in [owner, *buyers]:
        await stub.CreateAccount(pb.CreateAccountRequest(user_id=uid), timeout=CALL_TIMEOUT_S)
    for uid in buyers:
        await stub.Deposit(pb.DepositRequest(user_id=uid, deposit_id="d1", amount=funds),
                           timeout=CALL_TIMEOUT_S)
    for cid in campaigns:
        await stub.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id=cid, owner_id=owner, min_price=min_price, slot_seconds=slot_seconds),
            timeout=CALL_TIMEOUT_S)
    if filler is not None:
        await stub.UploadFiller(pb.UploadFillerRequest(filler=filler), timeout=CALL_TIMEOUT_S)
