"""Reflection on a served server (``services.runtime.serve``), asked as a v1 client and as a
v1alpha one: the services listed, and the API's descriptors served with their comments.

The v1 client is compiled here from its own copy of grpc.reflection.v1 (below), not from the
server's: so the test also checks that the v1 the server builds at run time (from v1alpha,
renamed) is the real one, message for message and field for field.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha
from grpc_tools import protoc

from services.api.abc.v1 import notify_pb2, purchase_pb2
from services.runtime import ServerConfig, Tokens, serve

pytestmark = pytest.mark.asyncio

PURCHASE = purchase_pb2.DESCRIPTOR.services_by_name["PurchaseService"].full_name
NOTIFY = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name
V1 = "grpc.reflection.v1.ServerReflection"
V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"
SYNTAX, SERVICE = 12, 6  # field numbers in FileDescriptorProto
METHOD = 2  # in ServiceDescriptorProto

V1_PROTO = """
syntax = "proto3";
package grpc.reflection.v1;
service ServerReflection {
  rpc ServerReflectionInfo(stream ServerReflectionRequest)
      returns (stream ServerReflectionResponse);
}
message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_by_filename = 3;
    string file_containing_symbol = 4;
    ExtensionRequest file_containing_extension = 5;
    string all_extension_numbers_of_type = 6;
    string list_services = 7;
  }
}
message ExtensionRequest {
  string containing_type = 1;
  int32 extension_number = 2;
}
message ServerReflectionResponse {
  string valid_host = 1;
  ServerReflectionRequest original_request = 2;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ExtensionNumberResponse all_extension_numbers_response = 5;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ExtensionNumberResponse {
  string base_type_name = 1;
  repeated int32 extension_number = 2;
}
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse {
  int32 error_code = 1;
  string error_message = 2;
}
"""


class Client:
    """One version's ServerReflectionInfo: a request's fields in, the response out."""

    def __init__(self, service: str, request: type[Message], response: type[Message]) -> None:
        self.service, self.request, self.response = service, request, response

    async def ask(self, channel: grpc.aio.Channel, **request: Any) -> Any:
        method = channel.stream_stream(f"/{self.service}/ServerReflectionInfo",
                                       request_serializer=self.request.SerializeToString,
                                       response_deserializer=self.response.FromString)
        async for response in method(iter([self.request(**request)])):
            return response
        raise AssertionError("no response")

    async def files(self, channel: grpc.aio.Channel, symbol: str
                    ) -> dict[str, descriptor_pb2.FileDescriptorProto]:
        response = await self.ask(channel, file_containing_symbol=symbol)
        assert response.WhichOneof("message_response") == "file_descriptor_response", response
        files = [descriptor_pb2.FileDescriptorProto.FromString(data)
                 for data in response.file_descriptor_response.file_descriptor_proto]
        return {file.name: file for file in files}


@pytest.fixture(scope="module")
def v1_compiled(tmp_path_factory: pytest.TempPathFactory) -> descriptor_pb2.FileDescriptorProto:
    root = tmp_path_factory.mktemp("v1")
    (root / "grpc" / "reflection" / "v1").mkdir(parents=True)
    (root / "grpc" / "reflection" / "v1" / "reflection.proto").write_text(V1_PROTO)
    out = root / "v1.binpb"
    assert protoc.main(["protoc", f"-I{root}", f"--descriptor_set_out={out}",
                        "grpc/reflection/v1/reflection.proto"]) == 0
    (file,) = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    for message in file.message_type:  # protoc fills these in; a pool's descriptors leave
        for field in message.field:     # them out (they follow from the names)
            field.ClearField("json_name")
    return file


@pytest.fixture(scope="module")
def v1_client(v1_compiled: descriptor_pb2.FileDescriptorProto) -> Client:
    pool = descriptor_pool.DescriptorPool()  # the client's own, not the server's
    pool.Add(v1_compiled)
    classes = [message_factory.GetMessageClass(pool.FindMessageTypeByName(
        f"grpc.reflection.v1.{name}")) for name in ("ServerReflectionRequest",
                                                     "ServerReflectionResponse")]
    return Client(V1, *classes)


V1ALPHA_CLIENT = Client(V1ALPHA, v1alpha.ServerReflectionRequest,
                        v1alpha.ServerReflectionResponse)


LOCAL = ServerConfig(listen="127.0.0.1:0")


def _get_account(server: grpc.aio.Server) -> None:
    async def get_account(_request: bytes, _context: object) -> bytes:
        return b""
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        PURCHASE, {"GetAccount": grpc.unary_unary_rpc_method_handler(get_account)})])


@contextlib.asynccontextmanager
async def served(config: ServerConfig = LOCAL) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to a server of the purchase and notify services' names. Their servicers
    are left out (reflection needs only the names and the descriptors), but for a GetAccount
    that answers an empty account to whoever the server lets in."""
    server = await serve(config, [PURCHASE, NOTIFY], _get_account)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield channel
    finally:
        await server.stop(0)


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
async def test_both_versions_list_the_services(v1_client: Client, version: str) -> None:
    client = v1_client if version == "v1" else V1ALPHA_CLIENT
    async with served() as channel:
        response = await client.ask(channel, list_services="")
    names = [service.name for service in response.list_services_response.service]
    assert names == sorted([PURCHASE, NOTIFY, "grpc.health.v1.Health", V1, V1ALPHA])


async def test_v1_serves_the_api_with_its_comments(v1_client: Client) -> None:
    async with served() as channel:
        files = await v1_client.files(channel, PURCHASE)
    assert sorted(files) == ["abc/v1/purchase.proto", "abc/v1/types.proto"]
    purchase = files["abc/v1/purchase.proto"]
    comments = {tuple(location.path): location.leading_comments
                for location in purchase.source_code_info.location}
    buy = [method.name for method in purchase.service[0].method].index("Buy")
    assert comments[SERVICE, 0].startswith(" Keepalive, for gateways: set keepalive_time")
    assert comments[SERVICE, 0, METHOD, buy] == \
        " Buy the next slot of a campaign for at most max_price.\n"
    assert comments[SYNTAX,].startswith(" The purchase service:")  # the header
    assert files["abc/v1/types.proto"].source_code_info.location

    # Apart from its comments, each file is exactly what the server's _pb2 modules define.
    for name, file in files.items():
        file.ClearField("source_code_info")
        defined = descriptor_pb2.FileDescriptorProto()
        descriptor_pool.Default().FindFileByName(name).CopyToProto(defined)
        assert file == defined

    # A client can build the API from them.
    pool = descriptor_pool.DescriptorPool()
    for name in ("abc/v1/types.proto", "abc/v1/purchase.proto"):
        pool.Add(files[name])
    assert "Buy" in [method.name for method in pool.FindServiceByName(PURCHASE).methods]


async def test_v1alpha_serves_the_same_files(v1_client: Client) -> None:
    async with served() as channel:
        assert await V1ALPHA_CLIENT.files(channel, NOTIFY) == \
            await v1_client.files(channel, NOTIFY)


async def test_v1_is_described_as_the_real_v1(
        v1_client: Client, v1_compiled: descriptor_pb2.FileDescriptorProto) -> None:
    """The v1 the server builds from v1alpha is, message for message and field for field,
    v1 as compiled here: so v1alpha's messages, which answer both, are v1's on the wire."""
    async with served() as channel:
        files = await v1_client.files(channel, V1)
    v1 = files["grpc/reflection/v1/reflection.proto"]
    assert (v1.package, v1.options.java_package) == ("grpc.reflection.v1", "io.grpc.reflection.v1")
    assert list(v1.message_type) == list(v1_compiled.message_type)
    assert list(v1.service) == list(v1_compiled.service)


async def test_unknown_names_and_empty_requests_are_errors(v1_client: Client) -> None:
    async with served() as channel:
        for client in (v1_client, V1ALPHA_CLIENT):
            for asked in ({"file_containing_symbol": "abc.v1.Nope"},
                          {"file_by_filename": "abc/v1/nope.proto"}):
                missing = await client.ask(channel, **asked)
                assert missing.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
            empty = await client.ask(channel)
            assert empty.error_response.error_code == \
                grpc.StatusCode.INVALID_ARGUMENT.value[0]


async def test_v1_needs_no_token(v1_client: Client) -> None:
    async with served(ServerConfig(listen="127.0.0.1:0",
                                   tokens=Tokens.parse("gateway:secret"))) as channel:
        response = await v1_client.ask(channel, list_services="")
        assert V1 in [service.name for service in response.list_services_response.service]
        get_account = channel.unary_unary(f"/{PURCHASE}/GetAccount", None, None)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await get_account(b"")
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert await get_account(b"", metadata=[("authorization", "Bearer secret")]) == b""
