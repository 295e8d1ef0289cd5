"""Whatever a client sends to the password methods, the purchase service answers with a status
its contract names: never INTERNAL or UNKNOWN; a refusal writes nothing, except a failed
attempt, which is counted (docs/protocol.md, "Credentials")."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.protobuf.message import Message
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.api.abc.v1 import purchase_pb2 as pb
from tests._support.world import store_url

from ._contract import contract_server
from ._support import code_of, send, writes

Code = grpc.StatusCode
SECRET = "correct horse battery"
WRONG = "wrong horse battery"


# Half the time a value that passes validation, so calls get to the hashes and the counts.
passwords = st.one_of(
    st.sampled_from([SECRET, WRONG, "a new password", "x" * 8, "x" * 256]),
    st.sampled_from(["", "x" * 7, "x" * 257]),
    st.text(st.characters(codec="utf-8"), max_size=300),
)
users = st.one_of(st.sampled_from(["alice", "bob", "ghost", "carol"]),
                  st.sampled_from(["", "a b", "a:b", "x" * 65]),
                  st.text(st.characters(codec="utf-8"), max_size=70))
password_calls = st.one_of(
    st.tuples(st.just("CreateAccount"),
              st.builds(pb.CreateAccountRequest, user_id=users, password=passwords)),
    st.tuples(st.just("Authenticate"),
              st.builds(pb.AuthenticateRequest, user_id=users, password=passwords)),
    st.tuples(st.just("ChangePassword"),
              st.builds(pb.ChangePasswordRequest, user_id=users, old_password=passwords,
                        new_password=passwords)),
    st.tuples(st.just("ResetPassword"),
              st.builds(pb.ResetPasswordRequest, user_id=users, new_password=passwords)),
)
PASSWORD_ANSWERS = {Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.ALREADY_EXISTS,
                    Code.UNAUTHENTICATED}


def test_any_password_request_gets_a_contract_status(tmp_path: Path) -> None:
    """Never INTERNAL; a refusal writes nothing, but for a failed attempt, which counts."""
    url = store_url(tmp_path)
    with contract_server(url) as server:
        async def accounts() -> None:
            for uid, password in (("alice", SECRET), ("bob", "")):
                await server.stub.CreateAccount(pb.CreateAccountRequest(user_id=uid,
                                                                       password=password))

        server.loop.run(accounts())

        async def misanswers(batch: list[tuple[str, Message]]) -> list[str]:
            wrong = []
            for method, message in batch:
                before = writes(url)
                code = await code_of(send(server.stub, method, message))
                event(f"{method} {code.name}")
                if code not in PASSWORD_ANSWERS:
                    wrong.append(f"{method}: {code.name}")
                elif code not in (Code.OK, Code.UNAUTHENTICATED) and writes(url) != before:
                    wrong.append(f"{method}: {code.name} but it wrote")
            return wrong

        @settings(max_examples=60, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(password_calls, min_size=1, max_size=4))
        def every_answer_is_in_the_contract(batch: list[tuple[str, Message]]) -> None:
            assert server.loop.run(misanswers(batch)) == []

        every_answer_is_in_the_contract()
