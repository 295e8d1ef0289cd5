"""The wire server itself, without the SDK: framing, SCRAM (RFC 7677's test vector), and the
protocol over a raw socket."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .framing import (
    FRAME_DURABILITY,
    Opcode,
    RequestReader,
    Response,
    Status,
    decode_response,
    encode_frame,
    encode_request,
    parse_frames,
    read_leb128,
    write_leb128,
)
from .sasl import AuthFailed, SaslSession, UserBase
from .server import Feature, WireServer

# --- framing ---------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_leb128_round_trips(value: int) -> None:
    encoded = write_leb128(value)
    assert read_leb128(encoded + b"rest") == (value, len(encoded))


def test_leb128_examples() -> None:
    assert write_leb128(0) == b"\x00"
    assert write_leb128(8) == b"\x08"
    assert write_leb128(0x80) == b"\x80\x01"


@given(st.lists(st.tuples(st.integers(0, 15 + 255), st.binary(max_size=15 + 255)),
                max_size=4))
def test_frame_infos_round_trip_with_escapes(frames: list[tuple[int, bytes]]) -> None:
    data = b"".join(encode_frame(i, d) for i, d in frames)
    assert [(f.id, f.data) for f in parse_frames(data)] == frames


def test_a_durability_frame_is_id_1() -> None:
    # majority, timeout 0x2328 = 9000 ms: id 1, length 3
    [frame] = parse_frames(bytes([0x13, 0x01, 0x23, 0x28]))
    assert (frame.id, frame.data) == (FRAME_DURABILITY, b"\x01\x23\x28")


def test_requests_are_cut_from_a_stream_in_any_pieces() -> None:
    stream = (encode_request(Opcode.GET, key=b"a", opaque=1)
              + encode_request(Opcode.SET, key=b"b", value=b"{}", extras=b"\0" * 8, opaque=2,
                               frames=encode_frame(FRAME_DURABILITY, b"\x01")))
    reader = RequestReader()
    got = []
    for i in range(len(stream)):
        reader.feed(stream[i:i + 1])
        while (request := reader.pop()) is not None:
            got.append(request)
    assert [(r.opcode, r.key, r.opaque) for r in got] == [(Opcode.GET, b"a", 1),
                                                           (Opcode.SET, b"b", 2)]
    assert got[1].value == b"{}" and got[1].extras == b"\0" * 8
    assert got[1].frame(FRAME_DURABILITY) is not None and got[0].frames == ()


def test_a_response_header_is_24_bytes_with_the_status_at_6() -> None:
    data = Response(Opcode.GET, opaque=7, status=Status.KEY_NOT_FOUND, cas=9).encode()
    assert len(data) == 24
    assert data[0] == 0x81 and data[1] == Opcode.GET
    assert struct.unpack_from(">H", data, 6)[0] == Status.KEY_NOT_FOUND
    assert struct.unpack_from(">IQ", data, 12) == (7, 9)


# --- SASL ------------------------------------------------------------------------------------

# RFC 7677 section 3: SCRAM-SHA-256, user "user", password "pencil".
RFC7677_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC7677_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC7677_SERVER_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                        b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
RFC7677_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC7677_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def _rfc7677_session() -> SaslSession:
    users = UserBase({"user": "pencil"}, 4096, base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    return SaslSession(users, server_nonce=lambda: RFC7677_SERVER_NONCE)


def test_scram_sha256_matches_the_rfc_7677_example() -> None:
    session = _rfc7677_session()
    assert session.start("SCRAM-SHA256", RFC7677_CLIENT_FIRST) == (False, RFC7677_SERVER_FIRST)
    assert session.step("SCRAM-SHA256", RFC7677_CLIENT_FINAL) == (True, RFC7677_SERVER_FINAL)
    assert session.user == "user"


def test_scram_rejects_a_wrong_proof() -> None:
    session = _rfc7677_session()
    session.start("SCRAM-SHA256", RFC7677_CLIENT_FIRST)
    proof = base64.b64encode(bytes(32)).decode()
    with pytest.raises(AuthFailed):
        session.step("SCRAM-SHA256", RFC7677_CLIENT_FINAL.split(b",p=")[0]
                     + f",p={proof}".encode())
    assert session.user is None


def scram_client(mechanism: str, user: str, password: str, server: SaslSession) -> bytes:
    """A plain RFC 5802 client run against ``server``; returns the server's final message."""
    hash_name = {"SCRAM-SHA512": "sha512", "SCRAM-SHA256": "sha256", "SCRAM-SHA1": "sha1"}[
        mechanism]
    bare = f"n={user},r=clientnonce"
    _, server_first = server.start(mechanism, f"n,,{bare}".encode())
    fields = dict(part.split("=", 1) for part in server_first.decode().split(","))
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), base64.b64decode(fields["s"]),
                                 int(fields["i"]))
    without_proof = f"c=biws,r={fields['r']}"
    auth = f"{bare},{server_first.decode()},{without_proof}".encode()
    client_key = hmac.digest(salted, b"Client Key", hash_name)
    signature = hmac.digest(hashlib.new(hash_name, client_key).digest(), auth, hash_name)
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True)))
    _, final = server.step(mechanism, f"{without_proof},p={proof.decode()}".encode())
    server_key = hmac.digest(salted, b"Server Key", hash_name)
    assert final == b"v=" + base64.b64encode(hmac.digest(server_key, auth, hash_name))
    return final


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA512", "SCRAM-SHA256", "SCRAM-SHA1"])
def test_scram_accepts_the_right_password_and_only_it(mechanism: str) -> None:
    users = UserBase({"u": "right"}, iterations=64)
    session = SaslSession(users)
    scram_client(mechanism, "u", "right", session)
    assert session.user == "u"
    with pytest.raises(AuthFailed):
        scram_client(mechanism, "u", "wrong", SaslSession(users))
    with pytest.raises(AuthFailed):
        scram_client(mechanism, "nobody", "right", SaslSession(users))


def test_plain() -> None:
    users = UserBase({"u": "pw"})
    session = SaslSession(users)
    assert session.start("PLAIN", b"\0u\0pw") == (True, b"")
    assert session.user == "u"
    with pytest.raises(AuthFailed):
        SaslSession(users).start("PLAIN", b"\0u\0nope")
    with pytest.raises(AuthFailed):
        SaslSession(users, mechanisms=("SCRAM-SHA512",)).start("PLAIN", b"\0u\0pw")


# --- the protocol over a socket --------------------------------------------------------------


class RawClient:
    """A blocking client that sends one request and reads its one response."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.opaque = 0

    def call(self, opcode: int, *, key: bytes = b"", value: bytes = b"", extras: bytes = b"",
             cas: int = 0, frames: bytes = b"") -> Response:
        self.opaque += 1
        self.sock.sendall(encode_request(opcode, key=key, value=value, extras=extras, cas=cas,
                                         frames=frames, opaque=self.opaque))
        while True:
            if len(self.buffer) >= 24:
                size = 24 + struct.unpack_from(">I", self.buffer, 8)[0]
                if len(self.buffer) >= size:
                    response, used = decode_response(self.buffer)
                    self.buffer = self.buffer[used:]
                    assert response.opaque == self.opaque
                    return response
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buffer += chunk

    def login(self, server: WireServer, features: tuple[int, ...] = ()) -> None:
        hello = self.call(Opcode.HELLO, key=b"raw",
                          value=struct.pack(f">{len(features)}H", *features))
        assert hello.status == Status.SUCCESS
        auth = self.call(Opcode.SASL_AUTH, key=b"PLAIN",
                         value=f"\0{server.username}\0{server.password}".encode())
        assert auth.status == Status.SUCCESS

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


@pytest.fixture
def client(server: WireServer) -> Iterator[RawClient]:
    raw = RawClient(server.port)
    try:
        yield raw
    finally:
        raw.close()


def test_hello_accepts_only_the_features_it_supports(client: RawClient) -> None:
    asked = (0x03, Feature.XERROR, 0x04, Feature.COLLECTIONS, 0x0A, Feature.JSON, 0x99)
    response = client.call(Opcode.HELLO, key=b"agent", value=struct.pack(">7H", *asked))
    accepted = struct.unpack(f">{len(response.value) // 2}H", response.value)
    assert accepted == (Feature.XERROR, Feature.COLLECTIONS, Feature.JSON)


def test_sasl_list_mechs(client: RawClient) -> None:
    assert client.call(Opcode.SASL_LIST_MECHS).value.split() == [
        b"SCRAM-SHA512", b"SCRAM-SHA256", b"SCRAM-SHA1", b"PLAIN"]


def test_nothing_but_the_handshake_before_authentication(client: RawClient) -> None:
    assert client.call(Opcode.GET, key=b"k").status == Status.AUTH_ERROR
    assert client.call(Opcode.SELECT_BUCKET, key=b"abc").status == Status.AUTH_ERROR
    bad = client.call(Opcode.SASL_AUTH, key=b"PLAIN", value=b"\0abc-test\0wrong")
    assert bad.status == Status.AUTH_ERROR


def test_the_bucket_must_be_selected_and_exist(server: WireServer, client: RawClient) -> None:
    client.login(server)
    assert client.call(Opcode.GET, key=b"k").status == Status.NO_BUCKET
    assert client.call(Opcode.SELECT_BUCKET, key=b"other").status == Status.NO_ACCESS
    assert client.call(Opcode.SELECT_BUCKET, key=b"abc").status == Status.SUCCESS
    assert client.call(Opcode.GET, key=b"k").status == Status.KEY_NOT_FOUND


def test_the_cluster_map_names_the_bucket_once_selected(server: WireServer,
                                                        client: RawClient) -> None:
    client.login(server)
    before = json.loads(client.call(Opcode.GET_CLUSTER_CONFIG).value)
    assert "name" not in before and before["nodesExt"][0]["services"]["kv"] == server.port
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    after = json.loads(client.call(Opcode.GET_CLUSTER_CONFIG).value)
    assert after["name"] == "abc"
    assert set(map(tuple, after["vBucketServerMap"]["vBucketMap"])) == {(0,)}


def test_kv_semantics_and_unique_cas(server: WireServer, client: RawClient) -> None:
    client.login(server)
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    flags = struct.pack(">II", 0x02000000, 0)
    add = client.call(Opcode.ADD, key=b"k", value=b'{"a":1}', extras=flags)
    assert add.status == Status.SUCCESS and add.cas > 0
    assert client.call(Opcode.ADD, key=b"k", value=b"{}", extras=flags).status \
        == Status.KEY_EXISTS
    got = client.call(Opcode.GET, key=b"k")
    assert (got.value, got.cas, got.extras) == (b'{"a":1}', add.cas, struct.pack(">I",
                                                                             0x02000000))
    stale = client.call(Opcode.REPLACE, key=b"k", value=b"{}", extras=flags, cas=add.cas + 99)
    assert stale.status == Status.KEY_EXISTS  # a stale cas: "exists", the SDK's cas mismatch
    replaced = client.call(Opcode.REPLACE, key=b"k", value=b"{}", extras=flags, cas=add.cas)
    assert replaced.cas > add.cas
    assert client.call(Opcode.DELETE, key=b"k", cas=add.cas).status == Status.KEY_EXISTS
    assert client.call(Opcode.DELETE, key=b"k", cas=replaced.cas).status == Status.SUCCESS
    assert client.call(Opcode.DELETE, key=b"k").status == Status.KEY_NOT_FOUND
    assert client.call(Opcode.REPLACE, key=b"k", value=b"{}", extras=flags).status \
        == Status.KEY_NOT_FOUND
    server.flush()  # the cas counter survives a flush: a cas is never handed out twice
    again = client.call(Opcode.SET, key=b"k", value=b"{}", extras=flags)
    assert again.cas > replaced.cas


def test_collections_prefix_the_key_with_a_collection_id(server: WireServer,
                                                          client: RawClient) -> None:
    client.login(server, features=(Feature.COLLECTIONS,))
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    cid = client.call(Opcode.GET_COLLECTION_ID, value=b"_default._default")
    assert cid.extras == struct.pack(">QI", 0, 0)
    assert client.call(Opcode.GET_COLLECTION_ID, value=b"s.c").status \
        == Status.UNKNOWN_COLLECTION
    flags = struct.pack(">II", 0, 0)
    assert client.call(Opcode.SET, key=b"\x00doc", value=b"x", extras=flags).status \
        == Status.SUCCESS
    assert server.document("doc") is not None
    assert client.call(Opcode.GET, key=b"\x08doc").status == Status.UNKNOWN_COLLECTION
    meta = client.call(Opcode.GET_META, key=b"\x00doc")
    assert meta.status == Status.SUCCESS and len(meta.extras) == 21


def test_flexible_framing_is_read_and_durability_recorded(server: WireServer,
                                                           client: RawClient) -> None:
    client.login(server)
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    frames = encode_frame(FRAME_DURABILITY, b"\x01\x07\xd0")  # majority, 2000 ms
    response = client.call(Opcode.SET, key=b"d", value=b"v", extras=bytes(8), frames=frames)
    assert response.status == Status.SUCCESS
    client.call(Opcode.SET, key=b"e", value=b"v", extras=bytes(8))
    assert [(w.op, w.key, w.durability, w.durability_timeout_ms) for w in server.writes] == [
        ("upsert", "d", "majority", 2000), ("upsert", "e", None, None)]


def test_unknown_commands_are_answered_as_such(server: WireServer, client: RawClient) -> None:
    client.login(server)
    assert client.call(0x85).status == Status.UNKNOWN_COMMAND  # create bucket
    assert client.call(Opcode.NOOP).status == Status.SUCCESS


def test_faults_act_on_matching_requests_only(server: WireServer, client: RawClient) -> None:
    client.login(server)
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    rule = server.faults.temporary_failure(op="insert", key_prefix="slot:", times=1, skip=1)
    flags = bytes(8)
    assert client.call(Opcode.ADD, key=b"slot:1", value=b"v", extras=flags).status \
        == Status.SUCCESS  # skipped
    assert client.call(Opcode.SET, key=b"slot:2", value=b"v", extras=flags).status \
        == Status.SUCCESS  # another op
    assert client.call(Opcode.ADD, key=b"user:2", value=b"v", extras=flags).status \
        == Status.SUCCESS  # another prefix
    assert client.call(Opcode.ADD, key=b"slot:3", value=b"v", extras=flags).status \
        == Status.TEMPORARY_FAILURE
    assert server.document("slot:3") is None
    assert client.call(Opcode.ADD, key=b"slot:3", value=b"v", extras=flags).status \
        == Status.SUCCESS  # times=1: spent
    assert (rule.fired, rule.keys) == (1, ("slot:3",))


def test_a_dropped_reply_still_applies_the_write(server: WireServer, client: RawClient) -> None:
    client.login(server)
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    server.faults.drop_reply_after_apply(op="upsert")
    client.opaque += 1
    client.sock.sendall(encode_request(Opcode.SET, key=b"k", value=b"v", extras=bytes(8),
                                       opaque=client.opaque))
    # the next answer is the NOOP's: the SET's never comes, but the SET happened
    assert client.call(Opcode.NOOP).opcode == Opcode.NOOP
    assert server.document("k") is not None


def test_close_connection(server: WireServer, client: RawClient) -> None:
    client.login(server)
    client.call(Opcode.SELECT_BUCKET, key=b"abc")
    server.faults.close_connection(op="insert")
    with pytest.raises(ConnectionError):
        client.call(Opcode.ADD, key=b"k", value=b"v", extras=bytes(8))
    assert server.document("k") is None
