"""Server reflection in both versions clients ask for, with the API's comments.

``grpc.reflection.v1.ServerReflection`` is what current clients ask for first (grpcurl falls
back to v1alpha only when a server lacks v1, and newer tools may not fall back at all);
``grpc.reflection.v1alpha.ServerReflection`` is what older ones and Python's own client speak.
grpcio-reflection (1.85) implements v1alpha only. The two protos differ in their package name
alone (same messages, fields and numbers), so their messages are the same on the wire: one
servicer, written with the v1alpha message classes, answers both; the v1 file's descriptor is
added to the pool (v1alpha's, renamed) so that v1 is listed and described like any service.

The descriptors of the generated _pb2 modules carry no comments (protoc's Python output drops
them, and the pool keeps none), so a client would see the API without its documentation;
``comments`` (``services.api.source_info``, written by protos/generate.py) gives each API file's
source_code_info, which is served with that file's descriptor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypeAlias

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection_pb2 as pb

V1ALPHA_SERVICE = "grpc.reflection.v1alpha.ServerReflection"
V1_SERVICE = "grpc.reflection.v1.ServerReflection"
V1_FILE = "grpc/reflection/v1/reflection.proto"
_METHOD = "ServerReflectionInfo"
_V1ALPHA_PACKAGE = "grpc.reflection.v1alpha"
_V1_PACKAGE = "grpc.reflection.v1"

# grpcio-reflection's generated messages come without type stubs.
Request: TypeAlias = Any  # pb.ServerReflectionRequest
Response: TypeAlias = Any  # pb.ServerReflectionResponse


def v1_file(pool: descriptor_pool.DescriptorPool | None = None) -> FileDescriptor:
    """``grpc/reflection/v1/reflection.proto`` in ``pool`` (the default pool), added once:
    v1alpha's file with the v1 package and options."""
    pool = pool or descriptor_pool.Default()
    try:
        return pool.FindFileByName(V1_FILE)
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    pb.DESCRIPTOR.CopyToProto(proto)
    proto.name, proto.package = V1_FILE, _V1_PACKAGE
    old, new = f".{_V1ALPHA_PACKAGE}.", f".{_V1_PACKAGE}."
    for message in proto.message_type:
        for field in message.field:
            if field.HasField("type_name"):
                field.type_name = field.type_name.replace(old, new)
    for service in proto.service:
        for method in service.method:
            method.input_type = method.input_type.replace(old, new)
            method.output_type = method.output_type.replace(old, new)
    proto.options.Clear()  # v1's own, as in grpc's reflection/v1/reflection.proto
    proto.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    proto.options.java_multiple_files = True
    proto.options.java_package = "io.grpc.reflection.v1"
    proto.options.java_outer_classname = "ServerReflectionProto"
    return pool.AddSerializedFile(proto.SerializeToString())


class Reflection:
    """Answers ServerReflectionInfo, v1 and v1alpha alike, from ``pool``'s descriptors."""

    def __init__(self, service_names: Iterable[str], comments: Mapping[str, bytes],
                 pool: descriptor_pool.DescriptorPool | None = None) -> None:
        self._services = sorted(set(service_names))
        self._comments = dict(comments)
        self._pool = pool or descriptor_pool.Default()
        self._serialized: dict[str, bytes] = {}

    async def info(self, requests: AsyncIterator[Request],
                   _context: grpc.aio.ServicerContext[Request, Response]
                   ) -> AsyncIterator[Response]:
        async for request in requests:
            yield self.answer(request)

    def answer(self, request: Request) -> Response:
        asked = request.WhichOneof("message_request")
        pool = self._pool
        try:
            if asked == "file_by_filename":
                return self._files(request, pool.FindFileByName(request.file_by_filename))
            if asked == "file_containing_symbol":
                return self._files(request, pool.FindFileContainingSymbol(
                    request.file_containing_symbol))
            if asked == "file_containing_extension":
                wanted = request.file_containing_extension
                extension = pool.FindExtensionByNumber(
                    pool.FindMessageTypeByName(wanted.containing_type), wanted.extension_number)
                return self._files(request, pool.FindFileContainingSymbol(extension.full_name))
            if asked == "all_extension_numbers_of_type":
                message = pool.FindMessageTypeByName(request.all_extension_numbers_of_type)
                numbers = sorted(e.number for e in pool.FindAllExtensions(message))
                return _response(request, all_extension_numbers_response=pb.ExtensionNumberResponse(
                    base_type_name=message.full_name, extension_number=numbers))
        except KeyError:
            return _error(request, grpc.StatusCode.NOT_FOUND, f"{asked}: not found")
        if asked == "list_services":
            return _response(request, list_services_response=pb.ListServiceResponse(
                service=[pb.ServiceResponse(name=name) for name in self._services]))
        return _error(request, grpc.StatusCode.INVALID_ARGUMENT, "no request set")

    def _files(self, request: Request, file: FileDescriptor) -> Response:
        """``file`` and every file it depends on, directly or not (``file`` first)."""
        seen: dict[str, FileDescriptor] = {}
        stack = [file]
        while stack:
            current = stack.pop()
            if current.name not in seen:
                seen[current.name] = current
                stack.extend(reversed(current.dependencies))
        return _response(request, file_descriptor_response=pb.FileDescriptorResponse(
            file_descriptor_proto=[self._serialize(f) for f in seen.values()]))

    def _serialize(self, file: FileDescriptor) -> bytes:
        """``file``'s FileDescriptorProto, with its comments when we have them."""
        found = self._serialized.get(file.name)
        if found is None:
            proto = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(proto)
            comments = self._comments.get(file.name)
            if comments is not None:
                proto.source_code_info.MergeFromString(comments)
            found = self._serialized[file.name] = proto.SerializeToString()
        return found


def _response(request: Request, **answer: Any) -> Response:
    return pb.ServerReflectionResponse(original_request=request, **answer)


def _error(request: Request, code: grpc.StatusCode, message: str) -> Response:
    return _response(request, error_response=pb.ErrorResponse(error_code=code.value[0],
                                                               error_message=message))


def enable_reflection(server: grpc.aio.Server, service_names: Iterable[str],
                      comments: Mapping[str, bytes]) -> None:
    """Serve reflection v1 and v1alpha on ``server``, listing ``service_names`` and both
    reflection services."""
    v1_file()
    reflection = Reflection([*service_names, V1_SERVICE, V1ALPHA_SERVICE], comments)
    handler = grpc.stream_stream_rpc_method_handler(
        reflection.info,
        request_deserializer=pb.ServerReflectionRequest.FromString,
        response_serializer=pb.ServerReflectionResponse.SerializeToString)
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler(service, {_METHOD: handler})
        for service in (V1_SERVICE, V1ALPHA_SERVICE)])
