"""Safe ads over real gRPC (docs/protocol.md, "Filler"): an image is sent as bytes, decoded and
checked, and stored with its media type and size; anything else is INVALID_ARGUMENT with
reason INVALID_IMAGE naming filler.image (filler.content_type for a type that is not the
image's), and nothing is written. A campaign may declare an ad size; Buy with a filler of
another size there is FAILED_PRECONDITION, reason AD_SIZE_MISMATCH, nothing written."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.lab.loadgen import audit_url
from tests._support.images import FORMATS, image_bytes, png_claiming, png_of_length
from tests._support.world import open_world, store_url

from ._support import (
    detail_of,
    documents,
    error_info_of,
    failure_of,
    purchase_server,
    writes,
)

Code = grpc.StatusCode
pytestmark = pytest.mark.asyncio


def _ad(fid: str, image: bytes = b"", content_type: str = "", link: str = "") -> types_pb2.Filler:
    return types_pb2.Filler(user_id="alice", filler_id=fid, text="Kites", link=link,
                            image=image, content_type=content_type)


async def test_each_format_is_stored_with_its_type_and_size(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s = running.stub
        await open_world(s, owner="bob")
        for i, fmt in enumerate(FORMATS):
            data = image_bytes(fmt, 300 + i, 250)
            declared = FORMATS[fmt] if i % 2 else ""  # declared or left to the image
            answer = await s.UploadFiller(pb.UploadFillerRequest(filler=_ad(fmt, data,
                                                                            declared)))
            expected = types_pb2.Filler(user_id="alice", filler_id=fmt, text="Kites",
                                        image=data, content_type=FORMATS[fmt], width=300 + i,
                                        height=250)
            assert answer == expected
            assert await s.GetFiller(pb.GetFillerRequest(user_id="alice",
                                                         filler_id=fmt)) == expected
        text_only = await s.UploadFiller(pb.UploadFillerRequest(filler=_ad("words")))
        assert (text_only.image, text_only.content_type, text_only.width) == (b"", "", 0)
        listed = await s.ListFillers(pb.ListFillersRequest(user_id="alice"))
        assert [(f.filler_id, f.content_type, f.width, f.image) for f in listed.fillers] == \
            [("GIF", "image/gif", 302, b""), ("JPEG", "image/jpeg", 301, b""),
             ("PNG", "image/png", 300, b""), ("WEBP", "image/webp", 303, b""),
             ("words", "", 0, b"")]


BAD_IMAGES = {
    "a bomb: a PNG header claiming 50000x50000": (png_claiming(50_000, 50_000), "", "image"),
    "a PNG header claiming 100000x100000": (png_claiming(100_000, 100_000), "", "image"),
    "too many pixels": (image_bytes("PNG", 2049, 2048), "", "image"),
    "a side too long": (image_bytes("PNG", 4097, 1), "", "image"),
    "one byte too long": (png_of_length(262_145), "", "image"),
    "truncated": (image_bytes("PNG")[:300], "", "image"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "", "image"),
    "html": (b"<!doctype html><script>alert(1)</script>", "", "image"),
    "bmp": (image_bytes("BMP"), "", "image"),
    "svg declared as svg": (b"<svg/>", "image/svg+xml", "image"),
    "a PNG declared as JPEG": (image_bytes("PNG"), "image/jpeg", "content_type"),
    "a GIF declared as HTML": (image_bytes("GIF"), "text/html", "content_type"),
    "a content type without an image": (b"", "image/png", "content_type"),
}


@pytest.mark.parametrize("case", BAD_IMAGES, ids=BAD_IMAGES.keys())
async def test_a_bad_image_is_invalid_image_and_writes_nothing(tmp_path: Path,
                                                               case: str) -> None:
    image, declared, field = BAD_IMAGES[case]
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s = running.stub
        await open_world(s, owner="bob")
        before = writes(url)
        refused = await failure_of(s.UploadFiller(pb.UploadFillerRequest(
            filler=_ad("f1", image, declared))))
        info = error_info_of(refused)
        violations = detail_of(refused, error_details_pb2.BadRequest).field_violations
        assert (refused.code(), info.reason, info.metadata["field"]) == \
            (Code.INVALID_ARGUMENT, "INVALID_IMAGE", f"filler.{field}")
        assert [v.field for v in violations] == [f"filler.{field}"]
        assert (refused.details() or "").startswith(f"filler.{field}: ")
        assert writes(url) == before
        gone = await failure_of(s.GetFiller(pb.GetFillerRequest(user_id="alice",
                                                                filler_id="f1")))
        assert gone.code() == Code.NOT_FOUND


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,<script>1</script>",
                                  "https://user:pw@bank.example/", "https://a.example/\u202e",
                                  "https://" + "l" * 2048])
async def test_a_bad_link_is_invalid_field(tmp_path: Path, link: str) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        await open_world(running.stub, owner="bob")
        refused = await failure_of(running.stub.UploadFiller(pb.UploadFillerRequest(
            filler=_ad("f1", link=link))))
        assert (refused.code(), error_info_of(refused).reason) == \
            (Code.INVALID_ARGUMENT, "INVALID_FIELD")
        assert (refused.details() or "").startswith("filler.link: ")


async def test_a_campaign_s_ad_size_is_kept_and_shown(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        s = running.stub
        await open_world(s, owner="bob", campaigns=())
        made = await s.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id="banner", owner_id="bob", min_price=10, slot_seconds=60, ad_width=728,
            ad_height=90))
        assert (made.ad_width, made.ad_height) == (728, 90)
        view = await s.GetCampaign(types_pb2.GetCampaignRequest(campaign_id="banner"))
        assert (view.campaign.ad_width, view.campaign.ad_height) == (728, 90)
        listed = await s.ListCampaigns(pb.ListCampaignsRequest())
        assert [(c.campaign.ad_width, c.campaign.ad_height) for c in listed.campaigns] == \
            [(728, 90)]
        for width, height, field in [(728, 0, "ad_height"), (0, 90, "ad_width"),
                                     (5000, 90, "ad_width"), (728, -5, "ad_height")]:
            refused = await failure_of(s.CreateCampaign(pb.CreateCampaignRequest(
                campaign_id="c2", owner_id="bob", min_price=10, slot_seconds=60,
                ad_width=width, ad_height=height)))
            info = error_info_of(refused)
            assert (refused.code(), info.reason, info.metadata["field"]) == \
                (Code.INVALID_ARGUMENT, "INVALID_FIELD", field)


async def test_buy_with_a_filler_of_another_size_is_ad_size_mismatch(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url) as running:
        s, store = running.stub, running.node.wiring.store
        await open_world(s, owner="bob", campaigns=(), funds=10_000)
        await s.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id="banner", owner_id="bob", min_price=10, slot_seconds=60, ad_width=300,
            ad_height=250))
        for fid, image in [("fit", image_bytes("WEBP", 300, 250)),
                           ("wide", image_bytes("JPEG", 728, 90)), ("words", b"")]:
            await s.UploadFiller(pb.UploadFillerRequest(filler=_ad(fid, image)))
        before = await documents(store)
        for fid, size in [("wide", "728x90"), ("words", "no image")]:
            refused = await failure_of(s.Buy(pb.BuyRequest(
                user_id="alice", campaign_id="banner", max_price=1000, filler_id=fid)))
            info = error_info_of(refused)
            assert (refused.code(), info.reason) == (Code.FAILED_PRECONDITION,
                                                     "AD_SIZE_MISMATCH")
            assert (info.metadata["campaign_id"], info.metadata["filler_id"],
                    info.metadata["ad_width"], info.metadata["ad_height"]) == \
                ("banner", fid, "300", "250")
            assert size.split("x")[0] in (refused.details() or "")
        assert await documents(store) == before  # nothing written
        bought = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="banner",
                                           max_price=1000, filler_id="fit"))
        assert (bought.slot.slot, bought.balance) == (1, 10_000 - 10)
        shown = await s.GetCurrentAd(pb.GetCurrentAdRequest(campaign_id="banner"))
        assert (shown.filler.content_type, shown.filler.width, shown.filler.height) == \
            ("image/webp", 300, 250)
        assert shown.filler.image == image_bytes("WEBP", 300, 250)
        without = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="banner",
                                            max_price=1000))
        assert without.slot.slot == 2  # no filler: allowed on any campaign
    assert await audit_url(url, quiescent=True) == []
