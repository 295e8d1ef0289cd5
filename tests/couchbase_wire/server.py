"""The TCP server: one asyncio loop in a background thread, one task per connection.

A connection's life, as the SDK drives it: HELLO, SASL_LIST_MECHS and SASL_AUTH pipelined;
SASL_STEP; GET_ERROR_MAP (only when the ``xerror`` feature was accepted); SELECT_BUCKET (the
bucket connection only); GET_CLUSTER_CONFIG (again every 2.5 s on the bucket connection); then
KV commands. Requests are answered in order, one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from .commands import OP_NAMES, WRITES, Bucket, Item
from .config import ERROR_MAP, ConfigVariant, cluster_config
from .faults import Action, Faults
from .framing import (
    DATATYPE_JSON,
    FRAME_DURABILITY,
    Opcode,
    ProtocolError,
    Request,
    RequestReader,
    Response,
    Status,
    read_leb128,
)
from .sasl import ITERATIONS, MECHANISMS, AuthFailed, SaslSession, UserBase


class Feature:
    """HELLO feature codes (BinaryProtocol.md "0x1f HELO") this server accepts."""

    XERROR = 0x07
    SELECT_BUCKET = 0x08
    JSON = 0x0B
    ALT_REQUEST = 0x10
    SYNC_REPLICATION = 0x11
    COLLECTIONS = 0x12


ACCEPTED_FEATURES = frozenset({Feature.XERROR, Feature.SELECT_BUCKET, Feature.JSON,
                               Feature.ALT_REQUEST, Feature.SYNC_REPLICATION,
                               Feature.COLLECTIONS})
DEFAULT_COLLECTION = 0
DURABILITY_LEVELS = {1: "majority", 2: "majority_and_persist_to_active",
                     3: "persist_to_majority"}


@dataclass(frozen=True, slots=True)
class WriteSeen:
    """A write request as it arrived (whatever happened to it next): for assertions."""

    op: str
    key: str
    durability: str | None  # the durability frame's level, None without one
    durability_timeout_ms: int | None


class WireServer:
    """A one-node, one-bucket Couchbase KV server for tests::

        with WireServer() as server:
            settings = CouchbaseSettings.from_url(server.url, env=server.env)
            server.faults.drop_reply_after_apply(op="insert", key_prefix="slot:")

    ``start()`` runs it on 127.0.0.1, a free port, in a thread with its own event loop;
    ``stop()`` closes it. ``flush()`` empties the bucket and clears faults and the write log.
    """

    def __init__(self, *, bucket: str = "abc", username: str = "abc-test",
                 password: str = "wire-secret", host: str = "127.0.0.1",
                 config_variant: ConfigVariant = ConfigVariant.GOOD,
                 mechanisms: tuple[str, ...] = MECHANISMS,
                 iterations: int = ITERATIONS) -> None:
        self.host = host
        self.username = username
        self.password = password
        self.config_variant = config_variant
        self.mechanisms = mechanisms
        self.bucket = Bucket(bucket)
        self.faults = Faults()
        self.writes: list[WriteSeen] = []
        self.connections_opened = 0
        self._users = UserBase({username: password}, iterations)
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    # --- what tests use -----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def url(self) -> str:
        """The store URL: no credentials (they come from ``env``)."""
        return f"couchbase://{self.host}:{self.port}/{self.bucket.name}"

    @property
    def env(self) -> Mapping[str, str]:
        return {"ABC_COUCHBASE_USERNAME": self.username,
                "ABC_COUCHBASE_PASSWORD": self.password}

    @property
    def live_connections(self) -> int:
        """Client connections open right now."""
        return len(self._connections)

    def document(self, key: str) -> Item | None:
        """The stored document, read directly (not through the protocol)."""
        return self.bucket.get(key)

    def flush(self) -> None:
        self.bucket.flush()
        self.faults.clear()
        self.writes.clear()

    def close_connections(self) -> None:
        """Close every client connection now (the SDK reconnects)."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._close_all)

    # --- life -----------------------------------------------------------------------------

    def start(self) -> WireServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, 0))
                self._port = self._server.sockets[0].getsockname()[1]
            except Exception as exc:  # noqa: BLE001 - handed to start() to raise
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=run, name="couchbase-wire", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        """Stop listening, close every connection and let its task end on the EOF."""
        if self._server is not None:
            self._server.close()
        self._close_all()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            _done, stuck = await asyncio.wait(tasks, timeout=2)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)

    def _close_all(self) -> None:
        for writer in list(self._connections):
            writer.close()

    # --- one connection -------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_opened += 1
        self._connections.add(writer)
        conn = _Connection(self, writer)
        requests = RequestReader()
        try:
            while not conn.closed:
                data = await reader.read(65536)
                if not data:
                    break
                requests.feed(data)
                while not conn.closed and (request := requests.pop()) is not None:
                    conn.handle(request)
                await writer.drain()
        except (ConnectionError, ProtocolError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class _Connection:
    """Per-connection state: negotiated features, authentication, the selected bucket."""

    def __init__(self, server: WireServer, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.writer = writer
        self.features: frozenset[int] = frozenset()
        self.sasl = SaslSession(server._users, server.mechanisms)
        self.bucket: Bucket | None = None
        self.closed = False

    def reply(self, response: Response) -> None:
        self.writer.write(response.encode())

    def close(self) -> None:
        self.closed = True
        self.writer.close()

    @property
    def datatype_mask(self) -> int:
        return DATATYPE_JSON if Feature.JSON in self.features else 0

    def handle(self, req: Request) -> None:
        op = req.opcode
        if op == Opcode.HELLO:
            return self._hello(req)
        if op == Opcode.SASL_LIST_MECHS:
            return self.reply(Response(op, req.opaque,
                                       value=" ".join(self.server.mechanisms).encode()))
        if op in (Opcode.SASL_AUTH, Opcode.SASL_STEP):
            return self._sasl(req)
        if op == Opcode.NOOP:
            return self.reply(Response(op, req.opaque))
        if self.sasl.user is None:
            return self.reply(Response(op, req.opaque, Status.AUTH_ERROR))
        if op == Opcode.GET_ERROR_MAP:
            return self.reply(Response(op, req.opaque, value=ERROR_MAP, datatype=DATATYPE_JSON
                                       & self.datatype_mask))
        if op == Opcode.SELECT_BUCKET:
            return self._select_bucket(req)
        if op == Opcode.GET_CLUSTER_CONFIG:
            bucket = self.bucket.name if self.bucket is not None else None
            config = cluster_config(self.server.host, self.server.port, bucket,
                                    self.server.config_variant)
            return self.reply(Response(op, req.opaque, value=config,
                                       datatype=DATATYPE_JSON & self.datatype_mask))
        if op == Opcode.GET_COLLECTION_ID:
            return self._collection_id(req)
        if op in OP_NAMES:
            return self._kv(req)
        return self.reply(Response(op, req.opaque, Status.UNKNOWN_COMMAND))

    def _hello(self, req: Request) -> None:
        asked = struct.unpack(f">{len(req.value) // 2}H", req.value[:len(req.value) // 2 * 2])
        accepted = [f for f in asked if f in ACCEPTED_FEATURES]
        self.features = frozenset(accepted)
        self.reply(Response(req.opcode, req.opaque,
                            value=struct.pack(f">{len(accepted)}H", *accepted)))

    def _sasl(self, req: Request) -> None:
        mechanism = req.key.decode(errors="replace")
        try:
            if req.opcode == Opcode.SASL_AUTH:
                done, payload = self.sasl.start(mechanism, req.value)
            else:
                done, payload = self.sasl.step(mechanism, req.value)
        except (AuthFailed, UnicodeDecodeError, ValueError):
            return self.reply(Response(req.opcode, req.opaque, Status.AUTH_ERROR))
        status = Status.SUCCESS if done else Status.AUTH_CONTINUE
        self.reply(Response(req.opcode, req.opaque, status, value=payload))

    def _select_bucket(self, req: Request) -> None:
        if req.key.decode(errors="replace") != self.server.bucket.name:
            return self.reply(Response(req.opcode, req.opaque, Status.NO_ACCESS))
        self.bucket = self.server.bucket
        self.reply(Response(req.opcode, req.opaque))

    def _collection_id(self, req: Request) -> None:
        path = (req.value or req.key).decode(errors="replace")
        if path not in ("_default._default", "_default.", ".", "._default"):
            return self.reply(Response(req.opcode, req.opaque, Status.UNKNOWN_COLLECTION))
        extras = struct.pack(">QI", 0, DEFAULT_COLLECTION)  # manifest uid, collection id
        self.reply(Response(req.opcode, req.opaque, extras=extras))

    def _kv(self, req: Request) -> None:
        bucket = self.bucket
        if bucket is None:
            return self.reply(Response(req.opcode, req.opaque, Status.NO_BUCKET))
        raw = req.key
        if Feature.COLLECTIONS in self.features:
            collection, used = read_leb128(raw)
            if collection != DEFAULT_COLLECTION:
                return self.reply(Response(req.opcode, req.opaque, Status.UNKNOWN_COLLECTION))
            raw = raw[used:]
        key = raw.decode(errors="surrogateescape")
        op = OP_NAMES[req.opcode]
        if req.opcode in WRITES:
            frame = req.frame(FRAME_DURABILITY)
            level = DURABILITY_LEVELS.get(frame.data[0], "invalid") \
                if frame is not None and frame.data else None
            timeout = int.from_bytes(frame.data[1:3], "big") \
                if frame is not None and len(frame.data) >= 3 else None
            self.server.writes.append(WriteSeen(op, key, level, timeout))
        rule = self.server.faults.take(op, key)
        action = rule.action if rule is not None else None
        if action is Action.TEMPORARY_FAILURE:
            return self.reply(Response(req.opcode, req.opaque, Status.TEMPORARY_FAILURE))
        if action is Action.ANSWER_STATUS and rule is not None:
            return self.reply(Response(req.opcode, req.opaque, rule.status))
        if action is Action.DROP_REQUEST:
            return None
        if action is Action.CLOSE_CONNECTION:
            return self.close()
        response = bucket.execute(req, key, self.datatype_mask)
        if action is Action.ANSWER_STATUS_AFTER_APPLY and rule is not None:
            response = Response(req.opcode, req.opaque, rule.status)
        elif action is Action.CLOSE_AFTER_APPLY:
            return self.close()
        elif action is Action.DROP_REPLY_AFTER_APPLY:
            return None
        return self.reply(response)
