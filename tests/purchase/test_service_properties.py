"""Whatever a client sends, the purchase service answers with a status its contract names:
never INTERNAL or UNKNOWN (a crash in a handler), never UNAVAILABLE from a healthy store; a
refusal writes nothing; and the store stays sound (the quiescent audit is clean)."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.journal import MAX_MONEY, MAX_SLOT_SECONDS
from tests._support.images import FORMATS, image_bytes, png_claiming
from tests._support.world import KITES, open_world, store_url

from ._contract import contract_server
from ._support import send, writes

Code = grpc.StatusCode
# What the contract lets a call end with on a healthy store (UNAVAILABLE is for a failing one).
ANSWERS = {Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.ALREADY_EXISTS,
           Code.FAILED_PRECONDITION, Code.ABORTED}

# protobuf strings are UTF-8: lone surrogates can't even be sent.
_text = st.text(st.characters(codec="utf-8"), max_size=80)
ids = st.one_of(
    st.sampled_from(["alice", "bob", "c1", "f1", "ghost", "", "a b", "a:b", "a.b", "*", ">",
                     "x" * 64, "x" * 65]),
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    _text,
)
int64 = st.one_of(
    st.sampled_from([-(2**63), -1, 0, 1, 10, 20, MAX_MONEY, MAX_MONEY + 1, MAX_SLOT_SECONDS,
                     MAX_SLOT_SECONDS + 1, 2**53 + 1, 2**63 - 1]),
    st.integers(-(2**63), 2**63 - 1),
)
texts = st.one_of(_text, st.sampled_from(["", "x" * 500, "x" * 501, "x" * 2048, "x" * 2049,
                                          "x" * 262144, "x" * 262145]))



int32 = st.one_of(st.sampled_from([-(2**31), -1, 0, 1, 90, 250, 300, 4096, 4097, 2**31 - 1]),
                 st.integers(-(2**31), 2**31 - 1))
images = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([image_bytes(fmt, 300, 250) for fmt in FORMATS]
                    + [image_bytes("PNG", 728, 90), image_bytes("BMP"),
                       png_claiming(100_000, 100_000), png_claiming(4096, 1025),
                       image_bytes("GIF")[:40], b"<svg onload=alert(1)/>"]),
)
content_types = st.one_of(st.sampled_from(["", *FORMATS.values(), "image/svg+xml",
                                           "text/html"]), _text)


def known(*names: str) -> st.SearchStrategy[str]:
    """Often one of the world's real ids, so that calls get past validation too."""
    return st.one_of(st.sampled_from(names), ids)


users, campaigns = known("alice", "bob"), known("c1", "banner")
prices = st.one_of(st.integers(1, 1000), st.integers(1, 1000), int64)

calls = st.one_of(
    st.tuples(st.just("CreateAccount"), st.builds(pb.CreateAccountRequest, user_id=ids)),
    st.tuples(st.just("Deposit"),
              st.builds(pb.DepositRequest, user_id=users, deposit_id=ids, amount=prices)),
    st.tuples(st.just("GetAccount"), st.builds(pb.GetAccountRequest, user_id=users)),
    st.tuples(st.just("Login"), st.builds(pb.LoginRequest, user_id=users)),
    st.tuples(st.just("CreateCampaign"),
              st.builds(pb.CreateCampaignRequest, campaign_id=ids, owner_id=users,
                        min_price=prices, slot_seconds=int64, ad_width=int32,
                        ad_height=int32)),
    st.tuples(st.just("GetCampaign"),
              st.builds(types_pb2.GetCampaignRequest, campaign_id=campaigns)),
    st.tuples(st.just("UploadFiller"), st.builds(pb.UploadFillerRequest, filler=st.builds(
        types_pb2.Filler, user_id=users, filler_id=ids, text=texts, link=texts,
        image=images, content_type=content_types, width=int32, height=int32))),
    st.tuples(st.just("Buy"),
              st.builds(pb.BuyRequest, user_id=users, campaign_id=campaigns, max_price=prices,
                        filler_id=known("", "f1", "fit"), keep_trying=st.booleans())),
    st.tuples(st.just("GetCurrentAd"), st.builds(pb.GetCurrentAdRequest, campaign_id=campaigns)),
    # Calls that pass validation, so purchases and deposits really happen in between.
    st.tuples(st.just("Buy"),
              st.builds(pb.BuyRequest, user_id=st.sampled_from(["alice", "bob"]),
                        campaign_id=st.sampled_from(["c1", "banner"]),
                        max_price=st.integers(1, 10**4),
                        filler_id=st.sampled_from(["", "f1", "fit"]), keep_trying=st.booleans())),
    st.tuples(st.just("Deposit"),
              st.builds(pb.DepositRequest, user_id=st.sampled_from(["alice", "bob"]),
                        deposit_id=st.sampled_from(["d1", "d2", "d3"]),
                        amount=st.integers(1, 10**4))),
)


def test_any_request_gets_a_contract_status(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    with contract_server(url) as server:
        server.loop.run(open_world(server.stub, owner="bob", funds=1000, min_price=10,
                                   filler=KITES))
        # A campaign of one ad size, and alice's ad of that size (KITES has no image).
        server.loop.run(send(server.stub, "CreateCampaign", pb.CreateCampaignRequest(
            campaign_id="banner", owner_id="bob", min_price=10, slot_seconds=60, ad_width=300,
            ad_height=250)))
        server.loop.run(send(server.stub, "UploadFiller", pb.UploadFillerRequest(
            filler=types_pb2.Filler(user_id="alice", filler_id="fit", text="Kites",
                                    image=image_bytes("GIF")))))
        assert writes(url) > 0  # the write counter is live

        @settings(max_examples=100, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(calls, min_size=1, max_size=6))
        def every_answer_is_in_the_contract(batch: list[tuple[str, Message]]) -> None:
            assert server.misanswers(batch, ANSWERS) == []

        every_answer_is_in_the_contract()
