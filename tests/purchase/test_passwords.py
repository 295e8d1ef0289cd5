"""``Authenticate``, ``ChangePassword``, ``ResetPassword`` and ``CreateAccount`` with a password
over real gRPC, with the gateway's and the operator's tokens: the codes, the reasons, the
RetryInfo of a throttled attempt, and that no response ever carries a hash."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import credential_key
from services.runtime import ServerConfig, Tokens
from services.store import DocumentStore
from tests._support.world import store_url

from ._support import (
    Running,
    detail_of,
    documents,
    error_info_of,
    failure_of,
    purchase_server,
    token,
)

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode
GATEWAY, OPERATOR = token("g1"), token("o1")
SERVER = ServerConfig(listen="127.0.0.1:0", tokens=Tokens.parse("gateway:g1,operator:o1"))
SECRET = "correct horse battery"
WRONG = "wrong horse battery"


class Wire:
    """Every byte the server sent back through it: responses, and refusals' status details
    (the grpc-status-details-bin trailer) and messages."""

    def __init__(self, running: Running) -> None:
        self.stub = running.stub
        self.seen: list[bytes] = []

    async def ok(self, method: str, request: Message, metadata: object = GATEWAY) -> Message:
        response: Message = await getattr(self.stub, method)(request, metadata=metadata)
        self.seen.append(response.SerializeToString())
        return response

    async def refused(self, method: str, request: Message, metadata: object = GATEWAY
                      ) -> grpc.aio.AioRpcError:
        exc = await failure_of(getattr(self.stub, method)(request, metadata=metadata))
        self.seen.append((exc.details() or "").encode())
        status = rpc_status.from_call(cast(grpc.Call, exc))  # None: the interceptor's
        if status is not None:
            self.seen.append(status.SerializeToString())
        return exc


def _authenticate(uid: str, password: str) -> pb.AuthenticateRequest:
    return pb.AuthenticateRequest(user_id=uid, password=password)


async def _hash(store: DocumentStore, uid: str) -> str:
    hashed = (await store.get(credential_key(uid))).value["hash"]
    assert isinstance(hashed, str) and hashed.startswith("$argon2id$")
    return hashed


def _refusal(exc: grpc.aio.AioRpcError) -> tuple[Code, str, str, dict[str, str]]:
    info = error_info_of(exc)
    return exc.code(), info.reason, exc.details() or "", dict(info.metadata)


async def test_authenticate_and_its_refusals(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path), server=SERVER) as running:
        wire, store = Wire(running), running.node.wiring.store
        created = await wire.ok("CreateAccount", pb.CreateAccountRequest(user_id="alice",
                                                                         password=SECRET))
        assert created == pb.Account(user_id="alice")
        await wire.ok("CreateAccount", pb.CreateAccountRequest(user_id="bob"))  # no password

        ok = await wire.ok("Authenticate", _authenticate("alice", SECRET))
        assert ok == pb.AuthenticateResponse(account=pb.Account(user_id="alice"))

        wrong = _refusal(await wire.refused("Authenticate", _authenticate("alice", WRONG)))
        assert wrong == (Code.UNAUTHENTICATED, "BAD_CREDENTIALS", "wrong user id or password",
                         {})
        # An unknown user and a user without a password: the very same refusal.
        for uid in ("bob", "nobody"):
            assert _refusal(await wire.refused("Authenticate", _authenticate(uid, WRONG))) \
                == wrong

        for _ in range(4):  # alice's fifth failure in a row...
            await wire.refused("Authenticate", _authenticate("alice", WRONG))
        # ...so the next attempt, right or wrong, waits about a second, unchecked.
        throttled = await wire.refused("Authenticate", _authenticate("alice", SECRET))
        code, reason, message, metadata = _refusal(throttled)
        assert (code, reason) == (Code.UNAUTHENTICATED, "AUTH_THROTTLED")
        delay = detail_of(throttled, error_details_pb2.RetryInfo).retry_delay
        delay_ms = delay.seconds * 1000 + delay.nanos // 10**6
        assert 0 < delay_ms <= 1000
        assert 0 < int(metadata["retry_after_ms"]) <= 1000
        assert message == "too many failed attempts on this account: try again in 1 s"

        assert await _hash(store, "alice") not in b"".join(wire.seen).decode(errors="replace")
        assert b"argon2" not in b"".join(wire.seen)


async def test_change_and_reset(tmp_path: Path) -> None:
    async with purchase_server(store_url(tmp_path), server=SERVER) as running:
        wire, store = Wire(running), running.node.wiring.store
        await wire.ok("CreateAccount", pb.CreateAccountRequest(user_id="alice", password=SECRET))
        hashes = [await _hash(store, "alice")]

        change = pb.ChangePasswordRequest(user_id="alice", old_password=WRONG,
                                          new_password="a new password")
        assert _refusal(await wire.refused("ChangePassword", change))[:2] == (
            Code.UNAUTHENTICATED, "BAD_CREDENTIALS")
        change.old_password = SECRET
        assert await wire.ok("ChangePassword", change) == pb.ChangePasswordResponse()
        hashes.append(await _hash(store, "alice"))
        assert await wire.refused("Authenticate", _authenticate("alice", SECRET))
        await wire.ok("Authenticate", _authenticate("alice", "a new password"))

        # The operator's: without the old password. A gateway may not.
        reset = pb.ResetPasswordRequest(user_id="alice", new_password="the operator's pick")
        before = await store.get(credential_key("alice"))
        denied = await wire.refused("ResetPassword", reset, GATEWAY)
        assert denied.code() == Code.PERMISSION_DENIED
        assert await wire.refused("ResetPassword", reset, ())  # no token at all
        assert await store.get(credential_key("alice")) == before
        assert await wire.ok("ResetPassword", reset, OPERATOR) == pb.ChangePasswordResponse()
        hashes.append(await _hash(store, "alice"))
        await wire.ok("Authenticate", _authenticate("alice", "the operator's pick"))
        missing = await wire.refused("ResetPassword", pb.ResetPasswordRequest(
            user_id="nobody", new_password="whatever1"), OPERATOR)
        assert _refusal(missing)[:2] == (Code.NOT_FOUND, "USER_NOT_FOUND")

        seen = b"".join(wire.seen)
        assert len(set(hashes)) == 3 and b"argon2" not in seen
        assert not any(h.encode() in seen or h.rsplit("$", 2)[1].encode() in seen
                       for h in hashes)  # nor a hash's salt


@pytest.mark.parametrize(("method", "request_", "field"), [
    ("CreateAccount", pb.CreateAccountRequest(user_id="bob", password="short"), "password"),
    ("Authenticate", _authenticate("alice", "x" * 257), "password"),
    ("Authenticate", _authenticate("not an id", SECRET), "user_id"),
    ("ChangePassword", pb.ChangePasswordRequest(user_id="alice", old_password="",
                                                new_password=SECRET), "old_password"),
    ("ChangePassword", pb.ChangePasswordRequest(user_id="alice", old_password=SECRET,
                                                new_password="1234567"), "new_password"),
    ("ResetPassword", pb.ResetPasswordRequest(user_id="alice", new_password=""),
     "new_password"),
])
async def test_bad_input_names_the_field_and_writes_nothing(
        tmp_path: Path, method: str, request_: Message, field: str) -> None:
    async with purchase_server(store_url(tmp_path), server=SERVER) as running:
        wire, store = Wire(running), running.node.wiring.store
        await wire.ok("CreateAccount", pb.CreateAccountRequest(user_id="alice", password=SECRET))
        before = (await documents(store), await store.get(credential_key("alice")))
        exc = await wire.refused(method, request_, OPERATOR)
        assert exc.code() == Code.INVALID_ARGUMENT
        violations = detail_of(exc, error_details_pb2.BadRequest).field_violations
        assert [v.field for v in violations] == [field]
        assert (await documents(store), await store.get(credential_key("alice"))) == before

