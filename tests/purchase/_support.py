"""What the purchase tests share: a real purchase server on port 0 with a client channel in
the same event loop, status codes and rich-error details of calls, and the store's documents.

Tests are ``async def`` tests: the grpc.aio server and its client live and die in the test's
event loop. A store for a test is ``tests._support.world.store_url``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.journal import read_documents
from services.purchase import PurchaseConfig, PurchaseNode, start_purchase
from services.runtime import ServerConfig
from services.store import DocumentStore, Json, sqlite_path

Metadata = tuple[tuple[str, str], ...]


def token(value: str) -> Metadata:
    return (("authorization", f"Bearer {value}"),)


@dataclass
class Running:
    """A purchase node and a client stub connected to it."""

    node: PurchaseNode
    stub: purchase_pb2_grpc.PurchaseServiceAsyncStub
    channel: grpc.aio.Channel
    target: str = field(default="")


@contextlib.asynccontextmanager
async def purchase_server(
    url: str, nats_url: str | None = None, server: ServerConfig | None = None,
) -> AsyncIterator[Running]:
    """Start the purchase service on 127.0.0.1:0 (unless ``server`` says otherwise) and
    connect an insecure client channel to it; stop both afterwards."""
    config = PurchaseConfig(store_url=url, nats_url=nats_url,
                            server=server or ServerConfig(listen="127.0.0.1:0"))
    node = await start_purchase(config)
    target = f"127.0.0.1:{node.port}"
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            stub = purchase_pb2_grpc.PurchaseServiceStub(channel)
            yield Running(node, stub, channel, target)
    finally:
        await node.stop(grace_s=1.0)


async def send(stub: purchase_pb2_grpc.PurchaseServiceAsyncStub, method: str,
               request: Message) -> Message:
    """Call ``method`` (e.g. "Buy") with ``request``: for tables of calls."""
    rpc: Callable[[Message], Awaitable[Message]] = getattr(stub, method)
    return await rpc(request)


async def code_of(call: Awaitable[object]) -> grpc.StatusCode:
    """The status code the call ends with (OK when it returns)."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def failure_of(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    """The error the call must fail with."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded")


def details_of(exc: grpc.aio.AioRpcError) -> list[any_pb2.Any]:
    """The details of the call's rich status (google.rpc.Status in the trailer)."""
    # grpcio-status's from_call reads code(), details() and trailing_metadata(), which the
    # aio error has too; its stubs only name the sync grpc.Call.
    status: status_pb2.Status | None = rpc_status.from_call(cast(grpc.Call, exc))
    assert status is not None, "no grpc-status-details-bin trailer"
    assert status.code == exc.code().value[0]
    return list(status.details)


D = TypeVar("D", bound=Message)


def detail_of(exc: grpc.aio.AioRpcError, kind: type[D]) -> D:
    """The one detail of type ``kind`` in the call's rich status."""
    found = []
    for packed in details_of(exc):
        detail = kind()
        if packed.Unpack(detail):
            found.append(detail)
    assert len(found) == 1, [d.type_url for d in details_of(exc)]
    return found[0]


def error_info_of(exc: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """Every refusal's ErrorInfo: its stable reason, domain abc.v1."""
    info = detail_of(exc, error_details_pb2.ErrorInfo)
    assert info.domain == "abc.v1"
    return info


def rejection_of(exc: grpc.aio.AioRpcError) -> pb.BuyRejection:
    """The BuyRejection in the call's rich status."""
    return detail_of(exc, pb.BuyRejection)


async def documents(store: DocumentStore) -> list[tuple[str, Json, int]]:
    """Every document the audit can reach, with its cas: equal lists mean nothing written."""
    return [found async for found in read_documents(store)]


def writes(url: str) -> int:
    """A number every successful write to the sqlite store at ``url`` changes, above 0 once
    anything is written: the documents' count plus the sum of their cas (a write gives its key
    a cas never used before, file-wide: services/store/_sqlite.py). Cheap on a test's store."""
    with contextlib.closing(sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)) as db:
        (found,) = db.execute("SELECT count(*) + coalesce(sum(cas), 0) FROM documents").fetchone()
    assert isinstance(found, int)
    return found


