"""Packets of the memcached binary protocol as Couchbase speaks it (kv_engine's
``docs/BinaryProtocol.md``): the 24-byte header, flexible framing extras, LEB128 collection ids.

Request header (network byte order)::

    0 magic (0x80, or 0x08 with flexible framing)   1 opcode
    2 key length (u16); with magic 0x08: 2 framing extras length (u8), 3 key length (u8)
    4 extras length   5 datatype   6 vbucket (u16)   8 total body length (u32)
    12 opaque (u32)   16 cas (u64)

The body is ``framing extras | extras | key | value``. A response has the same layout with
magic 0x81 (0x18 with framing extras, which this server never sends) and the status in bytes
6-7 where a request has its vbucket.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

HEADER = struct.Struct(">BBHBBHIIQ")
HEADER_SIZE = HEADER.size  # 24

MAGIC_REQUEST = 0x80
MAGIC_ALT_REQUEST = 0x08  # a request with flexible framing extras
MAGIC_RESPONSE = 0x81

# Request frame-info ids (the ones a KV client sends; BinaryProtocol.md "Request header with
# flexible framing extras").
FRAME_REORDER = 0
FRAME_DURABILITY = 1

DATATYPE_JSON = 0x01


class Opcode:
    GET = 0x00
    SET = 0x01  # upsert
    ADD = 0x02  # insert
    REPLACE = 0x03
    DELETE = 0x04  # remove
    NOOP = 0x0A
    HELLO = 0x1F
    SASL_LIST_MECHS = 0x20
    SASL_AUTH = 0x21
    SASL_STEP = 0x22
    SELECT_BUCKET = 0x89
    GET_META = 0xA0
    GET_CLUSTER_CONFIG = 0xB5
    GET_COLLECTION_ID = 0xBB
    GET_ERROR_MAP = 0xFE


class Status:
    SUCCESS = 0x00
    KEY_NOT_FOUND = 0x01
    KEY_EXISTS = 0x02  # ADD: the key exists; SET/REPLACE/DELETE with a cas: cas mismatch
    INVALID_ARGUMENTS = 0x04
    NOT_MY_VBUCKET = 0x07
    NO_BUCKET = 0x08
    AUTH_ERROR = 0x20
    AUTH_CONTINUE = 0x21
    NO_ACCESS = 0x24
    UNKNOWN_COMMAND = 0x81
    TEMPORARY_FAILURE = 0x86
    UNKNOWN_COLLECTION = 0x88


class ProtocolError(Exception):
    """The peer sent bytes this server cannot read as a request: it drops the connection."""


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """One flexible-framing element: its id and its data."""

    id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Request:
    magic: int
    opcode: int
    datatype: int
    vbucket: int
    opaque: int
    cas: int
    frames: tuple[FrameInfo, ...]
    extras: bytes
    key: bytes
    value: bytes

    def frame(self, frame_id: int) -> FrameInfo | None:
        return next((f for f in self.frames if f.id == frame_id), None)


@dataclass(frozen=True, slots=True)
class Response:
    opcode: int
    opaque: int
    status: int = Status.SUCCESS
    cas: int = 0
    extras: bytes = b""
    key: bytes = b""
    value: bytes = b""
    datatype: int = 0

    def encode(self) -> bytes:
        body = len(self.extras) + len(self.key) + len(self.value)
        header = HEADER.pack(MAGIC_RESPONSE, self.opcode, len(self.key), len(self.extras),
                             self.datatype, self.status, body, self.opaque, self.cas)
        return header + self.extras + self.key + self.value


@dataclass
class RequestReader:
    """Cuts a byte stream into requests: ``feed`` bytes, then ``pop`` whole requests."""

    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def pop(self) -> Request | None:
        if len(self.buffer) < HEADER_SIZE:
            return None
        (magic, opcode, keylen, extlen, datatype, vbucket, bodylen, opaque,
         cas) = HEADER.unpack_from(self.buffer)
        if magic not in (MAGIC_REQUEST, MAGIC_ALT_REQUEST):
            raise ProtocolError(f"not a request: magic 0x{magic:02x}")
        if len(self.buffer) < HEADER_SIZE + bodylen:
            return None
        body = bytes(self.buffer[HEADER_SIZE:HEADER_SIZE + bodylen])
        del self.buffer[:HEADER_SIZE + bodylen]
        framelen = 0
        if magic == MAGIC_ALT_REQUEST:
            framelen, keylen = keylen >> 8, keylen & 0xFF
        if framelen + extlen + keylen > bodylen:
            raise ProtocolError(f"opcode 0x{opcode:02x}: lengths exceed the body")
        frames = parse_frames(body[:framelen])
        extras = body[framelen:framelen + extlen]
        key = body[framelen + extlen:framelen + extlen + keylen]
        value = body[framelen + extlen + keylen:]
        return Request(magic, opcode, datatype, vbucket, opaque, cas, frames, extras, key, value)


def parse_frames(data: bytes) -> tuple[FrameInfo, ...]:
    """Flexible framing extras: each element starts with a byte whose high nibble is the id
    and low nibble the length; 15 in either means "15 + the next byte" (id escape first)."""
    frames: list[FrameInfo] = []
    pos = 0
    while pos < len(data):
        first = data[pos]
        pos += 1
        frame_id, length = first >> 4, first & 0x0F
        if frame_id == 15:
            frame_id, pos = 15 + _byte(data, pos), pos + 1
        if length == 15:
            length, pos = 15 + _byte(data, pos), pos + 1
        if pos + length > len(data):
            raise ProtocolError("a frame info runs past the framing extras")
        frames.append(FrameInfo(frame_id, data[pos:pos + length]))
        pos += length
    return tuple(frames)


def encode_frame(frame_id: int, data: bytes) -> bytes:
    """The inverse of ``parse_frames`` for one element (used by the tests)."""
    head, tail = bytearray(), bytearray()
    nibble_id, nibble_len = frame_id, len(data)
    if frame_id >= 15:
        nibble_id = 15
        tail.append(frame_id - 15)
    if len(data) >= 15:
        nibble_len = 15
        tail.append(len(data) - 15)
    head.append(nibble_id << 4 | nibble_len)
    return bytes(head + tail) + data


def _byte(data: bytes, pos: int) -> int:
    if pos >= len(data):
        raise ProtocolError("a frame info escape byte is missing")
    return data[pos]


def encode_request(opcode: int, *, key: bytes = b"", value: bytes = b"", extras: bytes = b"",
                   opaque: int = 0, cas: int = 0, frames: bytes = b"", datatype: int = 0,
                   vbucket: int = 0) -> bytes:
    """A request packet (the tests' own client uses it); magic 0x08 when ``frames``."""
    body = len(frames) + len(extras) + len(key) + len(value)
    if frames:
        keyfield = len(frames) << 8 | len(key)
        magic = MAGIC_ALT_REQUEST
    else:
        keyfield, magic = len(key), MAGIC_REQUEST
    header = HEADER.pack(magic, opcode, keyfield, len(extras), datatype, vbucket, body, opaque,
                         cas)
    return header + frames + extras + key + value


def decode_response(data: bytes) -> tuple[Response, int]:
    """One response from the start of ``data`` and its size (the tests' own client)."""
    (magic, opcode, keylen, extlen, datatype, status, bodylen, opaque,
     cas) = HEADER.unpack_from(data)
    if magic != MAGIC_RESPONSE:
        raise ProtocolError(f"not a response: magic 0x{magic:02x}")
    body = data[HEADER_SIZE:HEADER_SIZE + bodylen]
    extras, key, value = body[:extlen], body[extlen:extlen + keylen], body[extlen + keylen:]
    return Response(opcode, opaque, status, cas, extras, key, value, datatype), \
        HEADER_SIZE + bodylen


def read_leb128(data: bytes) -> tuple[int, int]:
    """An unsigned LEB128 number at the start of ``data``: (value, bytes used)."""
    value = shift = 0
    for i, byte in enumerate(data[:5]):
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i + 1
        shift += 7
    raise ProtocolError("a collection id prefix is not a valid LEB128 u32")


def write_leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
