"""The DocumentStore contract: what every adapter must do, run once per adapter (see conftest).

Only the port is used here (``get insert replace upsert remove close``) and the error tree;
nothing adapter-specific, so a new adapter passes this file unchanged or is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.store import (
    CasMismatch,
    DocumentStore,
    Exists,
    InDoubt,
    Json,
    NotFound,
    StoreError,
    Unavailable,
)
from tests._support.loop import run_blocking

from .conftest import Opener, with_store


def assert_cas(cas: object) -> None:
    """A cas is an opaque positive integer."""
    assert isinstance(cas, int) and not isinstance(cas, bool), cas
    assert cas > 0, cas


def assert_same_json(actual: object, expected: object, where: str = "$") -> None:
    """Equal *and* of the same JSON types all the way down (``True`` is not ``1``, ``1.0``
    is not ``1``), which plain ``==`` does not check."""
    assert type(actual) is type(expected), f"{where}: {actual!r} is not {expected!r}"
    if isinstance(expected, dict):
        assert isinstance(actual, dict)
        assert sorted(actual) == sorted(expected), where
        for key, value in expected.items():
            assert_same_json(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list)
        assert len(actual) == len(expected), where
        for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_same_json(got, want, f"{where}[{i}]")
    else:
        assert actual == expected, where


# --- get ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_returns_value_and_cas_of_the_last_write(store: DocumentStore) -> None:
    cas = await store.insert("user:alice", {"name": "Alice", "credits": 3})
    doc = await store.get("user:alice")
    assert doc.value == {"name": "Alice", "credits": 3}
    assert doc.cas == cas


@pytest.mark.asyncio
async def test_get_missing_key_raises_not_found(store: DocumentStore) -> None:
    with pytest.raises(NotFound):
        await store.get("user:nobody")


@pytest.mark.asyncio
async def test_get_returns_a_copy(store: DocumentStore) -> None:
    await store.insert("k", {"tags": ["a"], "inner": {"n": 1}})
    doc = await store.get("k")
    doc.value["tags"].append("b")
    doc.value["inner"]["n"] = 2
    doc.value["added"] = True
    again = await store.get("k")
    assert again.value == {"tags": ["a"], "inner": {"n": 1}}
    assert again.cas == doc.cas


@pytest.mark.asyncio
async def test_writes_copy_the_value_passed(store: DocumentStore) -> None:
    value: Json = {"tags": ["a"]}
    await store.insert("k", value)
    value["tags"].append("inserted-then-mutated")
    assert (await store.get("k")).value == {"tags": ["a"]}

    doc = await store.get("k")
    replacement: Json = {"tags": ["r"]}
    await store.replace("k", replacement, doc.cas)
    replacement["tags"].append("replaced-then-mutated")
    assert (await store.get("k")).value == {"tags": ["r"]}

    upserted: Json = {"tags": ["u"]}
    await store.upsert("k", upserted)
    upserted["tags"].append("upserted-then-mutated")
    assert (await store.get("k")).value == {"tags": ["u"]}


# --- insert ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_insert_returns_the_cas(store: DocumentStore) -> None:
    cas = await store.insert("k", {"v": 1})
    assert_cas(cas)
    assert (await store.get("k")).cas == cas


@pytest.mark.asyncio
async def test_insert_of_an_existing_key_raises_exists_and_changes_nothing(
    store: DocumentStore,
) -> None:
    cas = await store.insert("k", {"v": "first"})
    with pytest.raises(Exists):
        await store.insert("k", {"v": "second"})
    doc = await store.get("k")
    assert doc.value == {"v": "first"}
    assert doc.cas == cas


# --- replace --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_replace_with_the_current_cas_writes_and_returns_a_new_cas(
    store: DocumentStore,
) -> None:
    old = await store.insert("k", {"v": 1})
    new = await store.replace("k", {"v": 2}, old)
    assert_cas(new)
    assert new != old
    doc = await store.get("k")
    assert doc.value == {"v": 2}
    assert doc.cas == new
    # and the new cas is the one to hand back next time
    newer = await store.replace("k", {"v": 3}, new)
    assert newer not in (old, new)
    assert (await store.get("k")).value == {"v": 3}


@pytest.mark.asyncio
async def test_replace_with_a_stale_cas_raises_cas_mismatch_and_changes_nothing(
    store: DocumentStore,
) -> None:
    stale = await store.insert("k", {"v": 1})
    current = await store.replace("k", {"v": 2}, stale)
    with pytest.raises(CasMismatch):
        await store.replace("k", {"v": "lost"}, stale)
    doc = await store.get("k")
    assert doc.value == {"v": 2}
    assert doc.cas == current


@pytest.mark.asyncio
async def test_replace_of_a_missing_key_raises_not_found(store: DocumentStore) -> None:
    cas = await store.insert("other", {"v": 1})
    with pytest.raises(NotFound):
        await store.replace("missing", {"v": 2}, cas)
    with pytest.raises(NotFound):
        await store.get("missing")


# --- upsert ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_upsert_creates_then_overwrites_with_a_new_cas_each_time(
    store: DocumentStore,
) -> None:
    first = await store.upsert("k", {"v": 1})
    assert_cas(first)
    doc = await store.get("k")
    assert (doc.value, doc.cas) == ({"v": 1}, first)

    second = await store.upsert("k", {"v": 2})
    assert_cas(second)
    assert second != first
    doc = await store.get("k")
    assert (doc.value, doc.cas) == ({"v": 2}, second)

    third = await store.upsert("k", {"v": 2})  # same value: still a write, still a new cas
    assert third not in (first, second)
    # an upsert makes older cas values stale
    with pytest.raises(CasMismatch):
        await store.replace("k", {"v": "lost"}, second)
    assert (await store.get("k")).value == {"v": 2}


# --- remove ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_remove_with_the_current_cas_deletes(store: DocumentStore) -> None:
    cas = await store.insert("k", {"v": 1})
    await store.remove("k", cas)
    with pytest.raises(NotFound):
        await store.get("k")
    # removed means gone: a second remove, or a replace, finds nothing
    with pytest.raises(NotFound):
        await store.remove("k", cas)
    with pytest.raises(NotFound):
        await store.replace("k", {"v": 2}, cas)
    # and the key is free for a new insert
    assert_cas(await store.insert("k", {"v": 3}))


@pytest.mark.asyncio
async def test_remove_with_a_stale_cas_raises_cas_mismatch_and_keeps_the_document(
    store: DocumentStore,
) -> None:
    stale = await store.insert("k", {"v": 1})
    current = await store.replace("k", {"v": 2}, stale)
    with pytest.raises(CasMismatch):
        await store.remove("k", stale)
    doc = await store.get("k")
    assert (doc.value, doc.cas) == ({"v": 2}, current)


@pytest.mark.asyncio
async def test_remove_of_a_missing_key_raises_not_found(store: DocumentStore) -> None:
    cas = await store.insert("other", {"v": 1})
    with pytest.raises(NotFound):
        await store.remove("missing", cas)
    assert (await store.get("other")).cas == cas


# --- cas ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_cas_is_never_reused_after_remove_and_insert_again(store: DocumentStore) -> None:
    seen: list[int] = []
    for round_ in range(5):
        cas = await store.insert("k", {"round": round_})
        # every cas this key ever had is stale for the new document
        for old in seen:
            with pytest.raises(CasMismatch):
                await store.replace("k", {"round": "lost"}, old)
            with pytest.raises(CasMismatch):
                await store.remove("k", old)
        doc = await store.get("k")
        assert (doc.value, doc.cas) == ({"round": round_}, cas)
        seen.append(cas)
        await store.remove("k", cas)
    assert len(set(seen)) == len(seen), seen


@pytest.mark.asyncio
async def test_every_write_of_a_key_gets_a_distinct_cas(store: DocumentStore) -> None:
    cas = await store.insert("k", {"n": 0})
    seen = [cas]
    for n in range(1, 6):
        cas = await store.replace("k", {"n": n}, cas)
        seen.append(cas)
        cas = await store.upsert("k", {"n": -n})
        seen.append(cas)
    await store.remove("k", cas)
    seen.append(await store.upsert("k", {"n": "back"}))
    for cas in seen:
        assert_cas(cas)
    assert len(set(seen)) == len(seen), seen


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [NotFound, Exists, CasMismatch, Unavailable, InDoubt])
def test_every_store_error_is_a_store_error(error: type[StoreError]) -> None:
    assert issubclass(error, StoreError)
    assert issubclass(StoreError, Exception)
    instance = error("user:alice", "replace", "detail")
    assert (instance.key, instance.op) == ("user:alice", "replace")
    assert "user:alice" in str(instance)


@pytest.mark.asyncio
async def test_errors_carry_the_key_and_the_op(store: DocumentStore) -> None:
    stale = await store.insert("doc:present", {"v": 1})
    current = await store.replace("doc:present", {"v": 2}, stale)
    caught: list[tuple[StoreError, type[StoreError], str, str]] = []

    async def expect(
        kind: type[StoreError], key: str, op: str, call: Callable[[], Awaitable[object]]
    ) -> None:
        with pytest.raises(kind) as info:
            await call()
        caught.append((info.value, kind, key, op))

    absent, present = "doc:absent", "doc:present"
    await expect(NotFound, absent, "get", lambda: store.get(absent))
    await expect(Exists, present, "insert", lambda: store.insert(present, {}))
    await expect(CasMismatch, present, "replace", lambda: store.replace(present, {}, stale))
    await expect(NotFound, absent, "replace", lambda: store.replace(absent, {}, current))
    await expect(CasMismatch, present, "remove", lambda: store.remove(present, stale))
    await expect(NotFound, absent, "remove", lambda: store.remove(absent, current))

    for error, kind, key, op in caught:
        assert type(error) is kind
        assert isinstance(error, StoreError)
        assert (error.key, error.op) == (key, op)


# --- JSON values ----------------------------------------------------------------------------


def _nested(depth: int) -> Json:
    value: Json = {"leaf": True}
    for level in range(depth):
        value = {"level": level, "child": {"in_a_list": [value]}}
    return value


JSON_SAMPLES: dict[str, Json] = {
    "empty": {},
    "nested": {"a": {"b": {"c": [1, 2, {"d": [], "e": {}}]}}, "deep": _nested(20)},
    "lists": {"xs": [1, "two", 3.5, None, True, False, [], {}, [[["x"]]]], "empty": []},
    "none": {"nothing": None, "list_of_none": [None, None]},
    "bools": {"t": True, "f": False, "in_list": [True, False, 0, 1]},
    "big_ints": {
        "2**53": 2**53,
        "2**53+1": 2**53 + 1,
        "-2**53-1": -(2**53) - 1,
        "int64_max": 2**63 - 1,
        "int64_min": -(2**63),
        "zero": 0,
    },
    "floats": {"pi": 3.141592653589793, "tiny": 5e-324, "huge": 1.7976931348623157e308, "one": 1.0},
    "unicode": {
        "text": "héllo wörld ☃ 日本語 𝄞 🎉",
        "escapes": 'quote" backslash\\ slash/ newline\n tab\t cr\r nul\x00 bell\x07',
        "ключ": "значение",
        "emoji 🔑": ["ünïcödé", "\u2028\u2029", ""],
    },
}


@pytest.mark.parametrize("name", list(JSON_SAMPLES))
@pytest.mark.asyncio
async def test_json_values_round_trip(store: DocumentStore, name: str) -> None:
    value = JSON_SAMPLES[name]

    cas = await store.insert("via-insert", value)
    assert_same_json((await store.get("via-insert")).value, value)
    await store.upsert("via-upsert", value)
    assert_same_json((await store.get("via-upsert")).value, value)
    await store.replace("via-insert", {"swap": name}, cas)
    cas = (await store.get("via-insert")).cas
    await store.replace("via-insert", value, cas)
    assert_same_json((await store.get("via-insert")).value, value)


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


@settings(
    max_examples=40,
    deadline=None,
    # the fixture is an opener, not state: every example opens its own handle
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=st.dictionaries(_text, _json, max_size=6))
def test_any_json_object_round_trips(opener: Opener, value: Json) -> None:
    async def body(s: DocumentStore) -> None:
        await s.upsert("doc", value)
        assert_same_json((await s.get("doc")).value, value)

    run_blocking(with_store(opener, body))  # hypothesis runs the examples: a sync test


# --- concurrency in one process -------------------------------------------------------------


@pytest.mark.asyncio
async def test_concurrent_cas_increments_lose_no_update(store: DocumentStore) -> None:
    tasks, increments, max_tries = 20, 10, 1000

    async def increment(s: DocumentStore) -> int:
        """One read-modify-replace, retried on CasMismatch; returns how many tries it took."""
        for attempt in range(1, max_tries + 1):
            doc = await s.get("counter")
            await asyncio.sleep(0)  # let the other tasks read the same cas
            try:
                await s.replace("counter", {"n": doc.value["n"] + 1}, doc.cas)
            except CasMismatch:
                continue
            return attempt
        raise AssertionError(f"no increment after {max_tries} tries")

    async def worker(s: DocumentStore) -> int:
        return sum([await increment(s) for _ in range(increments)])

    await store.insert("counter", {"n": 0})
    tries = sum(await asyncio.gather(*(worker(store) for _ in range(tasks))))
    final = (await store.get("counter")).value["n"]
    assert final == tasks * increments
    assert tries > tasks * increments, "the tasks never conflicted: the test proved nothing"


@pytest.mark.asyncio
async def test_exactly_one_of_concurrent_inserts_wins(store: DocumentStore) -> None:
    writers, keys = 20, 10

    for k in range(keys):
        key = f"slot:{k}"
        results = await asyncio.gather(
            *(store.insert(key, {"writer": w}) for w in range(writers)), return_exceptions=True
        )
        won = [(w, r) for w, r in enumerate(results) if isinstance(r, int)]
        lost = [r for r in results if not isinstance(r, int)]
        assert len(won) == 1, results
        assert all(isinstance(r, Exists) for r in lost), lost
        [(winner, cas)] = won
        doc = await store.get(key)
        assert (doc.value, doc.cas) == ({"writer": winner}, cas)
