"""An ad's image (docs/protocol.md, "Filler"): decoded and checked before its filler is
stored. PNG, JPEG, GIF or WebP found from the bytes; at most 262144 bytes; each side 1 to 4096
pixels and at most 4194304 in all, read from the header before anything is decoded (a bomb
costs nothing); every frame decoded, so truncated data is refused; a declared content type
must be what the image is. Every image here is made with Pillow in the test."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Callable
from typing import Literal, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from services.journal import (
    MAX_AD_SIDE,
    MAX_DECODED_PIXELS,
    MAX_FILLER_IMAGE,
    MAX_FRAMES,
    MAX_PIXELS,
    AdImage,
    Created,
    Filler,
    IndexKind,
    InvalidImage,
    JournalContext,
    filler_key,
    read_image,
)
from services.journal._index import add_to_index
from services.journal._outcomes import Rejected
from services.store import MemoryStore
from tests._support.images import (
    FORMATS,
    animation,
    image_bytes,
    noisy_image,
    png_claiming,
    png_of_length,
)

from .conftest import Node, RecordingStore, open_account

T = TypeVar("T")


def _refusal(data: bytes, declared: str = "") -> InvalidImage:
    with pytest.raises(Rejected) as refused:
        read_image(data, declared)
    outcome = refused.value.outcome
    assert isinstance(outcome, InvalidImage)
    return outcome


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_accepted_with_its_type_and_size(fmt: str) -> None:
    data = image_bytes(fmt, 300, 250)
    assert read_image(data) == AdImage(FORMATS[fmt], 300, 250)
    assert read_image(data, FORMATS[fmt]) == AdImage(FORMATS[fmt], 300, 250)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_an_animation_is_accepted(fmt: str) -> None:
    assert read_image(animation(fmt, 12, 30, 20)) == AdImage(FORMATS[fmt], 30, 20)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_declared_type_that_is_not_the_image_is_refused(fmt: str) -> None:
    other = next(t for f, t in FORMATS.items() if f != fmt)
    for declared in (other, "image/svg+xml", "text/html", FORMATS[fmt].upper(), "image/jpg"):
        refused = _refusal(image_bytes(fmt), declared)
        assert refused.field == "content_type", declared
        assert FORMATS[fmt] in refused.reason


@pytest.mark.parametrize("data", [
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)" width="9" height="9"/>',
    b"<html><script>alert(1)</script></html>",
    b"GIF89a<script>alert(1)</script>",
    image_bytes("BMP"), image_bytes("TIFF"), image_bytes("ICO", 32, 32), image_bytes("PPM"),
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBPVP8 ", b"not an image",
], ids=["svg", "html", "gif magic + script", "bmp", "tiff", "ico", "ppm", "png signature",
        "jpeg signature", "webp signature", "text"])
def test_anything_else_is_refused(data: bytes) -> None:
    assert _refusal(data).field == "image"


def test_at_most_max_filler_image_bytes() -> None:
    assert read_image(png_of_length(MAX_FILLER_IMAGE)).content_type == "image/png"
    refused = _refusal(png_of_length(MAX_FILLER_IMAGE + 1))
    assert f"at most {MAX_FILLER_IMAGE} bytes" in refused.reason


@pytest.mark.parametrize(("width", "height"), [(MAX_AD_SIDE, 1), (1, MAX_AD_SIDE),
                                               (2048, 2048), (MAX_AD_SIDE, 1024)])
def test_an_image_at_the_size_limits_is_accepted(width: int, height: int) -> None:
    assert width * height <= MAX_PIXELS
    assert read_image(image_bytes("PNG", width, height)) == AdImage("image/png", width, height)


@pytest.mark.parametrize(("width", "height"), [(MAX_AD_SIDE + 1, 1), (1, MAX_AD_SIDE + 1),
                                               (2049, 2048)])
def test_a_real_image_over_a_size_limit_is_refused(width: int, height: int) -> None:
    assert "pixels" in _refusal(image_bytes("PNG", width, height)).reason


@pytest.mark.parametrize("warning", ["error", "ignore"])
@pytest.mark.parametrize(("width", "height"), [(50_000, 50_000), (100_000, 100_000),
                                               (4096, 1025), (4097, 1), (2500, 2500)])
def test_a_bomb_is_refused_from_its_header_without_decoding(
        monkeypatch: pytest.MonkeyPatch, warning: Literal["error", "ignore"],
        width: int, height: int) -> None:
    """Under any warning filter (Pillow only warns between its limit and twice it): refused
    on the size its header claims, and nothing decoded."""
    def decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("a bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    bomb = png_claiming(width, height)
    assert len(bomb) < 100
    with warnings.catch_warnings():
        warnings.simplefilter(warning, Image.DecompressionBombWarning)
        assert "pixels" in _refusal(bomb).reason


def test_pillow_s_limit_is_set_to_ours() -> None:
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_header_within_limits_with_no_pixels_behind_it_is_refused() -> None:
    assert "truncated or corrupt" in _refusal(png_claiming(2048, 2048)).reason


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_data_is_refused(fmt: str, keep: float) -> None:
    whole = noisy_image(fmt)
    assert _refusal(whole[:int(len(whole) * keep)]).field == "image"


def test_an_animation_of_too_many_frames_is_refused() -> None:
    assert read_image(animation("GIF", MAX_FRAMES)).content_type == "image/gif"
    assert f"at most {MAX_FRAMES} frames" in _refusal(animation("GIF", MAX_FRAMES + 1)).reason


def test_an_animation_of_too_many_pixels_in_all_is_refused() -> None:
    frames = MAX_DECODED_PIXELS // (2048 * 2048) + 1
    refused = _refusal(animation("GIF", frames, 2048, 2048, solid=True))
    assert f"at most {MAX_DECODED_PIXELS} pixels over all its frames" in refused.reason


_SAMPLES = [image_bytes(fmt, 40, 30) for fmt in FORMATS] + [animation("GIF", 3)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SAMPLES), st.lists(st.tuples(st.integers(0, 10**6),
                                                     st.integers(0, 255)), max_size=6),
       st.floats(0, 1))
def test_mangled_images_are_refused_or_read_never_anything_else(
        sample: bytes, flips: list[tuple[int, int]], keep: float) -> None:
    data = bytearray(sample[:max(1, int(len(sample) * keep))] if keep < 0.98 else sample)
    for where, value in flips:
        data[where % len(data)] = value
    try:
        found = read_image(bytes(data))
    except Rejected as rejected:
        assert isinstance(rejected.outcome, InvalidImage)
    else:
        assert found.content_type in FORMATS.values()
        assert 1 <= found.width <= MAX_AD_SIDE and 1 <= found.height <= MAX_AD_SIDE


# Through the journal: stored with its facts, nothing written when refused, decoded off the
# event loop.

@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_upload_filler_stores_the_image_with_its_type_and_size(fmt: str) -> None:
    store = MemoryStore()
    journal = Node(store).journal
    await open_account(journal, "alice")
    data = image_bytes(fmt, 320, 50)
    assert await journal.upload_filler("alice", "ad", "Kites", "https://kites.example",
                                       data) == Created("filler", "ad")
    stored = (await store.get(filler_key("alice", "ad"))).value
    assert Filler.from_json(stored) == Filler.of("Kites", "https://kites.example", data,
                                                 FORMATS[fmt], 320, 50)
    assert Filler.from_json(stored).image == data
    assert (stored["content_type"], stored["width"], stored["height"]) == (FORMATS[fmt], 320, 50)


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", [png_claiming(50_000, 50_000), b"<svg/>",
                                 image_bytes("PNG")[:200], png_of_length(MAX_FILLER_IMAGE + 1)],
                         ids=["bomb", "svg", "truncated", "too long"])
async def test_a_refused_image_writes_nothing(bad: bytes) -> None:
    inner = MemoryStore()
    await open_account(Node(inner).journal, "alice")
    store = RecordingStore(inner)
    outcome = await Node(store).journal.upload_filler("alice", "ad", "Kites", image=bad)
    assert isinstance(outcome, InvalidImage) and outcome.field == "image"
    assert store.ops == []


@pytest.mark.asyncio
async def test_the_image_is_decoded_through_the_context_s_offload() -> None:
    threads: list[int] = []

    async def offload(work: Callable[[], T]) -> T:
        threads.append(threading.get_ident())
        return await asyncio.to_thread(work)

    store = MemoryStore()
    journal = Node(store).journal
    await open_account(journal, "alice")
    journal.context = JournalContext(offload=offload)
    assert await journal.upload_filler("alice", "ad", "Kites", image=image_bytes()) == \
        Created("filler", "ad")
    assert await journal.upload_filler("alice", "ad2", "Text only") == Created("filler", "ad2")
    assert len(threads) == 1  # the image only; a text-only ad has nothing to decode


@pytest.mark.asyncio
async def test_the_default_offload_is_a_worker_thread() -> None:
    assert await JournalContext().offload(threading.get_ident) != threading.get_ident()


@pytest.mark.asyncio
async def test_a_filler_written_before_images_were_checked_reads_as_it_is() -> None:
    """No content type: 0 x 0 and no image (it was never checked, so it is never shown); the
    document is left alone and the audit is content."""
    store = MemoryStore()
    journal = Node(store).journal
    await open_account(journal, "alice")
    old = {"text": "old", "link": "https://old.example", "image": "PHNjcmlwdD4="}
    await add_to_index(store, journal.context, IndexKind.FILLERS, "alice:old")
    await store.insert(filler_key("alice", "old"), old)
    assert Filler.from_json(old) == Filler("old", "https://old.example")
    assert await journal.get_filler("alice", "old") == old
    assert await journal.audit(quiescent=True) == []
