"""My account (balance, statement, my ads with upload and preview, my purchases) and ad
images.

An uploaded image is passed to purchase as it came (at most ``MAX_IMAGE_BYTES``, checked while
reading it): purchase decodes and checks it and reads its content type; the gateway serves it
back at ``/ads/{user}/{filler}/image`` with that content type and ``nosniff``."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2

from ._ads import IMAGE_TYPES, ad_of
from ._views import (
    FormError,
    Refused,
    answered,
    backends,
    current_user,
    form_failed,
    form_handler,
    page,
    redirect,
    signed_in,
    text_field,
    together,
)

MAX_IMAGE_BYTES = 262_144  # purchase's limit (types.proto, Filler.image)
STATEMENT_PAGE = 20
IMAGE_CACHE = "public, max-age=86400, immutable"  # a filler never changes once uploaded


@signed_in
async def account(request: Request) -> Response:
    return await render_account(request)


async def render_account(request: Request, error: str | None = None, status: int = 200,
                         draft: dict[str, str] | None = None) -> Response:
    """The account page; ``error`` and ``draft`` (what was typed) for a refused upload."""
    user = current_user(request)
    stub = backends(request).purchase
    statement: pb.Statement
    fillers: pb.ListFillersResponse
    statement, fillers, (purchases, purchases_note) = await together(
        stub.GetStatement(pb.GetStatementRequest(user_id=user, page_size=STATEMENT_PAGE)),
        stub.ListFillers(pb.ListFillersRequest(user_id=user, page_size=100)),
        _purchases(request, user))
    return page(request, "account.html", status, balance=statement.balance,
                entries=list(statement.entries), more_entries=bool(statement.next_page_token),
                ads=[ad_of(f) for f in fillers.fillers], purchases=purchases,
                purchases_note=purchases_note, error=error,
                draft=draft or {"filler_id": "", "text": "", "link": ""})


async def _purchases(request: Request, user: str) -> tuple[list[types_pb2.FilledSlot], str]:
    """The user's recent purchases, or why they can't be listed (not on this server yet)."""
    try:
        listed: pb.ListPurchasesResponse = await answered(backends(request).purchase
                                                          .ListPurchases(pb.ListPurchasesRequest(
                                                              user_id=user, page_size=20)))
    except Refused as refused:
        if refused.problem.reason != "UNIMPLEMENTED":
            raise
        return [], "Your purchases can't be listed on this server yet; your balance has them."
    return list(listed.purchases), ""


async def _image(form: FormData) -> bytes:
    """The uploaded image's bytes (empty: none), read no further than the limit."""
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        return b""
    data = await upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise FormError(f"Image: at most {MAX_IMAGE_BYTES // 1024} KiB.")
    return data


@form_handler
@signed_in
async def upload(request: Request, form: FormData) -> Response:
    user = current_user(request)
    draft = {name: text_field(form, name) for name in ("filler_id", "text", "link")}
    try:
        filler = types_pb2.Filler(user_id=user, filler_id=draft["filler_id"],
                                  text=draft["text"], link=draft["link"],
                                  image=await _image(form))
        await answered(backends(request).purchase.UploadFiller(
            pb.UploadFillerRequest(filler=filler)))
    except (FormError, Refused) as failure:
        return await form_failed(request, failure, lambda message, status: render_account(
            request, message, status, draft))
    return redirect("/account#ads", f"Your ad {draft['filler_id']} is uploaded.", request)


async def ad_image(request: Request) -> Response:
    """An ad's image, with the content type purchase gave it (only an image type), never
    sniffed by the browser, cached for a day (fillers are immutable)."""
    filler: types_pb2.Filler = await answered(backends(request).purchase.GetFiller(
        pb.GetFillerRequest(user_id=request.path_params["user_id"],
                            filler_id=request.path_params["filler_id"])))
    if not filler.image or filler.content_type not in IMAGE_TYPES:
        return Response("No image.", 404, media_type="text/plain")
    return Response(filler.image, media_type=filler.content_type,
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": IMAGE_CACHE,
                             "Content-Disposition": "inline"})
