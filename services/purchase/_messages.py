"""Journal values to the purchase API's messages."""

from __future__ import annotations

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.journal import Showing, User
from services.messages import filled_slot, filler_message

RESOLUTIONS = {
    "clean": pb.LoginResponse.CLEAN,
    "rolled_forward": pb.LoginResponse.ROLLED_FORWARD,
    "rolled_back": pb.LoginResponse.ROLLED_BACK,
    "resolved_elsewhere": pb.LoginResponse.RESOLVED_ELSEWHERE,
    "in_doubt": pb.LoginResponse.STILL_IN_DOUBT,
}


def account(uid: str, user: User) -> pb.Account:
    return pb.Account(user_id=uid, balance=user.balance, locked=user.lock is not None)


def showing_parts(
    cid: str, show: Showing | None
) -> tuple[types_pb2.FilledSlot | None, types_pb2.Filler | None]:
    if show is None:
        return None, None
    slot = filled_slot(cid, show.slot, show.fill)
    if show.filler is None or show.fill.filler is None:
        return slot, None
    return slot, filler_message(show.fill.buyer, show.fill.filler, show.filler)
