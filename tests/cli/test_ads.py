"""``abc filler upload`` sends an image file's bytes (and an optional content type);
``abc campaign create --ad-size WxH`` opens a campaign of one ad size; ``abc buy`` there with a
filler of another size is refused. Against a real purchase service in this process; a bad
file or size is a usage error (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from tests._support.images import image_bytes
from tests._support.world import open_world, store_url
from tests.purchase._support import purchase_server

from .test_money import Abc

pytestmark = pytest.mark.asyncio


async def test_upload_an_image_and_buy_on_a_sized_campaign(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    banner, photo = tmp_path / "banner.png", tmp_path / "photo.jpg"
    banner.write_bytes(image_bytes("PNG", 300, 250))
    photo.write_bytes(image_bytes("JPEG", 640, 480))
    async with purchase_server(store_url(tmp_path)) as running:
        abc = Abc(running.target, capsys)
        await open_world(running.stub, owner="bob", funds=1000, campaigns=())

        code, out, _ = await abc("campaign", "create", "side", "--owner", "bob",
                                 "--min-price", "10", "--slot-seconds", "60",
                                 "--ad-size", "300x250")
        assert (code, out) == (0, "campaign side of bob: min price 10, slots of 60 s, ads of "
                                  "300x250\n")
        code, out, _ = await abc("campaign", "show", "side")
        assert code == 0 and out.startswith("campaign side of bob: head 0, price now 10 (min "
                                            "10), slots of 60 s, ads of 300x250\n")
        code, out, _ = await abc("filler", "upload", "alice", "kites", "--text", "Kites",
                                 "--link", "https://kites.example", "--image-file",
                                 str(banner))
        assert (code, out) == (0, "filler kites of alice: 'Kites', image/png 300x250\n")
        code, out, _ = await abc("filler", "upload", "alice", "photo", "--text", "Photo",
                                 "--image-file", str(photo), "--content-type", "image/jpeg")
        assert (code, out) == (0, "filler photo of alice: 'Photo', image/jpeg 640x480\n")
        stored = await running.stub.GetFiller(pb.GetFillerRequest(user_id="alice",
                                                                  filler_id="kites"))
        assert stored.image == banner.read_bytes()

        code, _, err = await abc("filler", "upload", "alice", "liar", "--text", "Liar",
                                 "--image-file", str(photo), "--content-type", "image/png")
        assert code == 1
        assert "INVALID_ARGUMENT: filler.content_type: is 'image/png' but the image is " \
               "image/jpeg" in err
        svg = tmp_path / "x.svg"
        svg.write_text("<svg onload='alert(1)'/>")
        code, _, err = await abc("filler", "upload", "alice", "svg", "--text", "SVG",
                                 "--image-file", str(svg))
        assert code == 1 and "INVALID_ARGUMENT: filler.image: must be a PNG, JPEG" in err

        code, _, err = await abc("buy", "alice", "side", "--max-price", "100", "--filler",
                                 "photo")
        assert code == 1
        assert ("FAILED_PRECONDITION: filler 'photo' is 640x480; campaign 'side' shows "
                "300x250 ads") in err
        code, out, _ = await abc("buy", "alice", "side", "--max-price", "100", "--filler",
                                 "kites")
        assert code == 0 and out.startswith("bought slot 1 of side for 10")


@pytest.mark.parametrize(("args", "complaint"), [
    (["campaign", "create", "c", "--owner", "bob", "--min-price", "1", "--slot-seconds", "1",
      "--ad-size", "300"], "want WIDTHxHEIGHT in pixels"),
    (["campaign", "create", "c", "--owner", "bob", "--min-price", "1", "--slot-seconds", "1",
      "--ad-size", "3.5x4"], "want WIDTHxHEIGHT in pixels"),
    (["filler", "upload", "alice", "f", "--text", "t", "--image-file", "/no/such.png"],
     "can't read /no/such.png: No such file or directory"),
])
async def test_a_bad_size_or_file_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], args: list[str], complaint: str) -> None:
    abc = Abc("127.0.0.1:1", capsys)
    with pytest.raises(SystemExit) as usage:
        await abc(*args)
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert complaint in err and "Traceback" not in err
