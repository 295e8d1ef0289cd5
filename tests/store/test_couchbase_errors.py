"""The couchbase adapter's error mapping and settings, over the real SDK and the wire server.

What the SDK (4.6.3) reports for each fault, and what the adapter makes of it:

| fault (server side) | SDK exception | ours | applied? |
|---|---|---|---|
| write applied, reply dropped | AmbiguousTimeoutException | InDoubt | yes |
| write lost, no reply | AmbiguousTimeoutException | InDoubt | no |
| 0x86 temporary failure, always | TemporaryFailException (after retries) | Unavailable | no |
| 0x86 once | (retried) success | - | once |
| connection closed under a write | RequestCanceledException | InDoubt | either |
| connection closed under a read | (retried on a new connection) success | - | - |
| 0xa3 sync write ambiguous | DurabilitySyncWriteAmbiguousException | InDoubt | yes |
| 0xa1 durability impossible | DurabilityImpossibleException | Unavailable | no |
| a read, no reply | UnAmbiguousTimeoutException | Unavailable | - |

A closed connection is InDoubt, not Unavailable: the SDK cancels a write that was in flight
when its socket closed and does not retry it (a write is not idempotent), and the server may
have applied it before closing, as ``close_connection(after_apply=True)`` shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping

import pytest

from services.store import (
    DURABILITIES,
    CasMismatch,
    CouchbaseSettings,
    CouchbaseStore,
    DocumentStore,
    InDoubt,
    NotFound,
    StoreError,
    StoreUrlError,
    Unavailable,
    open_store,
)
from services.store._couchbase import CouchbaseUrlError
from tests.couchbase_wire import WireServer

KV_TIMEOUT_S = 0.5
DURABLE_FLOOR_S = 1.5  # the SDK's C++ core never waits less for a durable write
SLACK_S = 1.5  # scheduling, connect, retries' backoff
WRITES = ("insert", "replace", "upsert", "remove")


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


def settings_for(server: WireServer, durability: str = "none", **changes: object
                 ) -> CouchbaseSettings:
    """Settings made directly (not from a URL), with short timeouts."""
    fields: dict[str, object] = {
        "connection": f"couchbase://{server.host}:{server.port}",
        "bucket": server.bucket.name,
        "username": server.username,
        "password": server.password,
        "durability": durability,
        "kv_timeout_s": KV_TIMEOUT_S,
        "kv_durable_timeout_s": KV_TIMEOUT_S,
        "connect_timeout_s": 2.0,
    }
    fields.update(changes)
    return CouchbaseSettings(**fields)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def opened(settings: CouchbaseSettings) -> AsyncIterator[DocumentStore]:
    """A couchbase store opened with ``settings``, closed afterwards."""
    store = await CouchbaseStore(settings).open()
    try:
        yield store
    finally:
        await store.close()


async def write(s: DocumentStore, op: str, key: str, cas: int) -> None:
    """One write of ``op`` on ``key`` (which holds ``{"v": 0}`` at ``cas``)."""
    if op == "insert":
        await s.insert(key + "-new", {"v": 1})
    elif op == "replace":
        await s.replace(key, {"v": 1}, cas)
    elif op == "upsert":
        await s.upsert(key, {"v": 1})
    elif op == "remove":
        await s.remove(key, cas)
    else:
        raise AssertionError(op)


async def state_after(s: DocumentStore, op: str, key: str) -> object:
    """What the store holds where ``op`` wrote: the value, or None if absent."""
    try:
        return (await s.get(key + "-new" if op == "insert" else key)).value
    except NotFound:
        return None


APPLIED = {"insert": {"v": 1}, "replace": {"v": 1}, "upsert": {"v": 1}, "remove": None}
NOT_APPLIED = {"insert": None, "replace": {"v": 0}, "upsert": {"v": 0}, "remove": {"v": 0}}


def cause_name(error: BaseException) -> str:
    return type(error.__cause__).__name__


# --- in doubt -------------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "durability"), [
    *((op, "none") for op in WRITES), ("insert", "majority"), ("replace", "majority")])
@pytest.mark.asyncio
async def test_a_dropped_reply_is_in_doubt_and_the_write_was_applied(
    server: WireServer, op: str, durability: str
) -> None:
    async with opened(settings_for(server, durability)) as s:
        cas = await s.insert("doc", {"v": 0})
        rule = server.faults.drop_reply_after_apply(op=op, key_prefix="doc")
        started = time.monotonic()
        with pytest.raises(InDoubt) as info:
            await write(s, op, "doc", cas)
        elapsed = time.monotonic() - started
        assert rule.fired == 1
        state = await state_after(s, op, "doc")
    error = info.value
    assert (error.op, cause_name(error)) == (op, "AmbiguousTimeoutException")
    assert state == APPLIED[op]  # read back through the same handle: the write happened
    bound = KV_TIMEOUT_S if durability == "none" else DURABLE_FLOOR_S
    assert elapsed < bound + SLACK_S, "the write's timeout is not the one the settings gave"


@pytest.mark.asyncio
async def test_a_lost_request_is_in_doubt_too_and_was_not_applied(server: WireServer) -> None:
    async with opened(settings_for(server)) as s:
        cas = await s.insert("doc", {"v": 0})
        server.faults.drop_request(op="replace")
        with pytest.raises(InDoubt) as info:
            await s.replace("doc", {"v": 1}, cas)
        state = await state_after(s, "replace", "doc")
    assert cause_name(info.value) == "AmbiguousTimeoutException"
    assert state == {"v": 0}


@pytest.mark.asyncio
async def test_an_ambiguous_sync_write_is_in_doubt(server: WireServer) -> None:
    async with opened(settings_for(server, "majority")) as s:
        server.faults.answer_status(0xA3, op="insert", after_apply=True)
        with pytest.raises(InDoubt) as info:
            await s.insert("doc", {"v": 1})
        value = (await s.get("doc")).value
    assert cause_name(info.value) == "DurabilitySyncWriteAmbiguousException"
    assert value == {"v": 1}


# --- unavailable ----------------------------------------------------------------------------


@pytest.mark.parametrize("op", [*WRITES, "get"])
@pytest.mark.asyncio
async def test_a_temporary_failure_until_the_timeout_is_unavailable_and_not_applied(
    server: WireServer, op: str
) -> None:
    async with opened(settings_for(server)) as s:
        cas = await s.insert("doc", {"v": 0})
        rule = server.faults.temporary_failure(op=op, key_prefix="doc", times=None)
        with pytest.raises(Unavailable) as info:
            if op == "get":
                await s.get("doc")
            else:
                await write(s, op, "doc", cas)
        server.faults.clear()
        state, fired = await state_after(s, op, "doc"), rule.fired
    error = info.value
    assert (error.op, cause_name(error)) == (op, "TemporaryFailException")
    assert state == (NOT_APPLIED[op] if op != "get" else {"v": 0})
    assert fired >= 2, "the SDK did not retry the temporary failure"


@pytest.mark.asyncio
async def test_one_temporary_failure_is_retried_by_the_sdk(server: WireServer) -> None:
    async with opened(settings_for(server)) as s:
        rule = server.faults.temporary_failure(op="insert", times=1)
        await s.insert("doc", {"v": 1})
        assert (await s.get("doc")).value == {"v": 1}
        fired = rule.fired
    assert fired == 1
    assert [w.op for w in server.writes] == ["insert", "insert"]  # sent twice, applied once


@pytest.mark.asyncio
async def test_durability_impossible_is_unavailable(server: WireServer) -> None:
    async with opened(settings_for(server, "majority")) as s:
        server.faults.answer_status(0xA1, op="upsert")
        with pytest.raises(Unavailable) as info:
            await s.upsert("doc", {"v": 1})
    assert cause_name(info.value) == "DurabilityImpossibleException"
    assert server.document("doc") is None


@pytest.mark.asyncio
async def test_a_read_without_a_reply_is_unavailable(server: WireServer) -> None:
    async with opened(settings_for(server)) as s:
        await s.insert("doc", {"v": 0})
        server.faults.drop_request(op="get")
        with pytest.raises(Unavailable) as info:
            await s.get("doc")
    assert cause_name(info.value) == "UnAmbiguousTimeoutException"


# --- closed connections ---------------------------------------------------------------------


@pytest.mark.parametrize("after_apply", [False, True])
@pytest.mark.asyncio
async def test_a_connection_closed_under_a_write_is_in_doubt(server: WireServer,
                                                             after_apply: bool) -> None:
    async with opened(settings_for(server)) as s:
        server.faults.close_connection(op="insert", after_apply=after_apply)
        with pytest.raises(InDoubt) as info:
            await s.insert("doc", {"v": 1})
        state = await state_after(s, "replace", "doc")  # the handle reconnects by itself
        await s.upsert("other", {"ok": True})
    assert cause_name(info.value) == "RequestCanceledException"
    assert state == ({"v": 1} if after_apply else None)
    assert server.connections_opened >= 3  # cluster, bucket, and the bucket's reconnection


@pytest.mark.asyncio
async def test_a_connection_closed_under_a_read_is_retried_by_the_sdk(server: WireServer) -> None:
    async with opened(settings_for(server)) as s:
        await s.insert("doc", {"v": 0})
        rule = server.faults.close_connection(op="get")
        value = (await s.get("doc")).value
        assert rule.fired == 1
    assert value == {"v": 0}


@pytest.mark.asyncio
async def test_the_errors_of_the_contract_still_map_after_a_reconnection(
        server: WireServer) -> None:
    async with opened(settings_for(server)) as s:
        stale = await s.insert("doc", {"v": 0})
        await s.replace("doc", {"v": 1}, stale)
        server.close_connections()
        # A read is retried on a new connection; a write racing the SDK's noticing of the
        # closed one would be cancelled (in doubt, see above), which is not this test's point.
        assert (await s.get("doc")).value == {"v": 1}
        with pytest.raises(CasMismatch):
            await s.replace("doc", {"v": 2}, stale)


# --- opening ----------------------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"password": "wrong"}, {"username": "nobody"}])
@pytest.mark.asyncio
async def test_wrong_credentials_fail_the_open(server: WireServer,
                                               change: dict[str, str]) -> None:
    with pytest.raises(Unavailable) as info:
        async with opened(settings_for(server, **change)) as s:
            await s.get("k")
    assert (info.value.op, cause_name(info.value)) == ("open", "AuthenticationException")
    assert "wrong" not in str(info.value)  # the password is not in the message


@pytest.mark.asyncio
async def test_an_unknown_bucket_fails_the_open_and_leaks_no_connection(
        server: WireServer) -> None:
    with pytest.raises(Unavailable) as info:
        async with opened(settings_for(server, bucket="nope")) as s:
            await s.get("k")
    assert cause_name(info.value) == "BucketNotFoundException"
    deadline = time.monotonic() + 2
    while server.live_connections and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert server.live_connections == 0, "the cluster of a failed open was left connected"


@pytest.mark.asyncio
async def test_no_server_fails_the_open_within_the_connect_timeout() -> None:
    with WireServer() as gone:
        pass  # started and stopped: its port is closed now
    started = time.monotonic()
    with pytest.raises(Unavailable) as info:
        async with opened(settings_for(gone, connect_timeout_s=1.0)) as s:
            await s.get("k")
    assert cause_name(info.value) == "UnAmbiguousTimeoutException"
    assert time.monotonic() - started < 1.0 + SLACK_S


# --- settings from the URL and the environment ------------------------------------------------


def _env(server: WireServer, **extra: str) -> dict[str, str]:
    return {**server.env, **extra}


@pytest.mark.parametrize("url", [
    "couchbase://user:secret@127.0.0.1/abc",
    "couchbase://user@127.0.0.1/abc",
    "couchbase://:secret@127.0.0.1/abc",
    "couchbases://user:secret@db.example/abc",
])
@pytest.mark.asyncio
async def test_credentials_in_the_url_are_rejected(server: WireServer, url: str) -> None:
    with pytest.raises(CouchbaseUrlError) as info:
        CouchbaseSettings.from_url(url, env=_env(server))
    assert "ABC_COUCHBASE_USERNAME" in str(info.value)
    assert "secret" not in str(info.value)
    with pytest.raises(StoreUrlError):
        await open_store(url)  # the URL is refused before the environment is read


@pytest.mark.parametrize("env", [
    {},
    {"ABC_COUCHBASE_USERNAME": "u"},
    {"ABC_COUCHBASE_PASSWORD": "p"},
    {"ABC_COUCHBASE_USERNAME": "", "ABC_COUCHBASE_PASSWORD": "p"},
    {"ABC_COUCHBASE_USERNAME": "u", "ABC_COUCHBASE_PASSWORD": ""},
])
def test_missing_credentials_are_an_error(server: WireServer, env: Mapping[str, str]) -> None:
    with pytest.raises(CouchbaseUrlError, match="ABC_COUCHBASE_USERNAME"):
        CouchbaseSettings.from_url(server.url, env=env)


@pytest.mark.parametrize("url", ["couchbase://127.0.0.1", "couchbase://127.0.0.1/a/b",
                                 "couchbase:///abc", "http://127.0.0.1/abc"])
def test_malformed_urls_are_rejected(server: WireServer, url: str) -> None:
    with pytest.raises(CouchbaseUrlError):
        CouchbaseSettings.from_url(url, env=_env(server))


def test_from_url_reads_the_environment_it_is_given(server: WireServer) -> None:
    settings = CouchbaseSettings.from_url(server.url, env=_env(server))
    assert (settings.connection, settings.bucket) == (
        f"couchbase://127.0.0.1:{server.port}", "abc")
    assert (settings.username, settings.password) == (server.username, server.password)
    assert settings.durability == "majority"


async def _writes_of_each_kind(server: WireServer, settings: CouchbaseSettings) -> None:
    async with opened(settings) as s:
        cas = await s.insert("doc", {"v": 0})
        cas = await s.replace("doc", {"v": 1}, cas)
        await s.get("doc")
        await s.remove("doc", cas)
        await s.upsert("doc", {"v": 2})


@pytest.mark.asyncio
async def test_writes_are_durable_majority_by_default(server: WireServer) -> None:
    settings = CouchbaseSettings.from_url(server.url, env=_env(server))
    await _writes_of_each_kind(server, settings)
    assert [(w.op, w.durability) for w in server.writes] == [
        ("insert", "majority"), ("replace", "majority"), ("remove", "majority"),
        ("upsert", "majority")]
    # every durable write carries the same timeout: 90% of kv_durable_timeout_s (10 s)
    assert {w.durability_timeout_ms for w in server.writes} == {9000}


@pytest.mark.parametrize("durability", DURABILITIES)
@pytest.mark.asyncio
async def test_the_durability_setting_reaches_the_server(server: WireServer,
                                                         durability: str) -> None:
    settings = CouchbaseSettings.from_url(
        server.url, env=_env(server, ABC_COUCHBASE_DURABILITY=durability))
    await _writes_of_each_kind(server, settings)
    assert len(server.writes) == 4
    expected = None if durability == "none" else durability
    assert {w.durability for w in server.writes} == {expected}
    if durability == "none":
        assert {w.durability_timeout_ms for w in server.writes} == {None}


def test_an_unknown_durability_is_rejected(server: WireServer) -> None:
    with pytest.raises(CouchbaseUrlError, match="ABC_COUCHBASE_DURABILITY"):
        CouchbaseSettings.from_url(server.url, env=_env(server, ABC_COUCHBASE_DURABILITY="all"))


# --- the mapping itself -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "on_write", "on_read"), [
    ("AmbiguousTimeoutException", InDoubt, Unavailable),
    ("UnAmbiguousTimeoutException", Unavailable, Unavailable),
    ("RequestCanceledException", InDoubt, Unavailable),
    ("TemporaryFailException", Unavailable, Unavailable),
    ("DurabilitySyncWriteAmbiguousException", InDoubt, Unavailable),
    ("DurabilityImpossibleException", Unavailable, Unavailable),
    ("DocumentNotFoundException", NotFound, NotFound),
    ("CasMismatchException", CasMismatch, CasMismatch),
])
def test_translate(name: str, on_write: type[StoreError], on_read: type[StoreError]) -> None:
    from couchbase import exceptions as cb

    from services.store._couchbase import translate

    exc = getattr(cb, name)()
    assert type(translate(exc, "insert", "k")) is on_write
    assert type(translate(exc, "get", "k")) is on_read
