"""End-user passwords (docs/protocol.md, "Credentials"): the argon2id hash in
``credential:<uid>``, one answer for a wrong password, an unknown user and a user without a
password, the throttle on a driven clock, concurrent guesses all counted, and the races and
crashes around creating an account with a password.

Every check is a real argon2id hash (~30 ms each), so these tests keep their attempts few.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from argon2 import PasswordHasher, Type

from services.journal import (
    AlreadyExists,
    BadCredentials,
    Created,
    Interrupted,
    InvalidInput,
    Missing,
    PasswordSet,
    Throttled,
    User,
    credential_key,
    read_documents,
    user_key,
)
from services.journal import _credentials as credentials_module
from services.journal._credentials import (
    DUMMY_HASH,
    HASHER,
    MAX_WAIT_MS,
    Credential,
)
from services.lab.loadgen import YieldingStore
from services.store import (
    CasMismatch,
    DocumentStore,
    Exists,
    InDoubt,
    Json,
    MemoryStore,
    StoreWrapper,
)

from .conftest import Crash, Node, RecordingStore, user_of, value_of

pytestmark = pytest.mark.asyncio

T = TypeVar("T")
SECRET = "correct horse battery"
WRONG = "wrong horse battery"


async def _alice(store: DocumentStore | None = None) -> Node:
    """alice, created with SECRET, on a fresh memory store (or ``store``)."""
    node = Node(store if store is not None else _memory())
    assert await node.journal.create_account("alice", SECRET) == Created("user", "alice")
    return node


def _memory() -> DocumentStore:
    return MemoryStore()


async def _credential(store: DocumentStore, uid: str) -> Credential | None:
    value = await value_of(store, credential_key(uid))
    return None if value is None else Credential.from_json(value)


async def test_the_hash_is_argon2id_with_owasp_parameters_and_verifies() -> None:
    node = await _alice()
    stored = await _credential(node.store, "alice")
    assert stored is not None and stored.hash is not None
    assert stored.hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert SECRET not in stored.hash
    assert PasswordHasher(type=Type.ID).verify(stored.hash, SECRET)  # a stock argon2 reader
    assert (stored.failures, stored.failed_at) == (0, None)
    # The hot user document holds no trace of it.
    assert await value_of(node.store, user_key("alice")) == User(0, None).to_json()
    assert await node.journal.authenticate("alice", SECRET) == User(0, None)
    # The dummy is made with the same parameters, so checking against it costs the same.
    assert not HASHER.check_needs_rehash(DUMMY_HASH)


async def test_a_wrong_password_is_bad_credentials_and_counted() -> None:
    node = await _alice()
    before = await _credential(node.store, "alice")
    assert await node.journal.authenticate("alice", WRONG) == BadCredentials()
    assert before is not None
    assert await _credential(node.store, "alice") == Credential(before.hash, 1, node.clock.now)
    # A success takes the count back.
    assert isinstance(await node.journal.authenticate("alice", SECRET), User)
    stored = await _credential(node.store, "alice")
    assert stored is not None and (stored.failures, stored.failed_at) == (0, None)


async def test_passwords_are_normalized_nfkc() -> None:
    node = Node(_memory())
    composed, decomposed = "caf\u00e9-password", "cafe\u0301-password"
    assert await node.journal.create_account("alice", composed) == Created("user", "alice")
    assert isinstance(await node.journal.authenticate("alice", decomposed), User)


async def test_unknown_and_passwordless_users_are_indistinguishable_from_a_wrong_password(
        monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []  # the hash each argon2 check ran against
    real_verify = credentials_module._verify

    def counting_verify(hashed: str, password: str) -> bool:
        checked.append(hashed)
        return real_verify(hashed, password)

    monkeypatch.setattr(credentials_module, "_verify", counting_verify)
    store = RecordingStore(_memory())
    node = await _alice(store)
    assert await node.journal.create_account("bob") == Created("user", "bob")  # no password
    j = node.journal
    cases: dict[str, Callable[[], Awaitable[object]]] = {
        "wrong": lambda: j.authenticate("alice", WRONG),
        "no password": lambda: j.authenticate("bob", WRONG),
        "unknown": lambda: j.authenticate("nobody", WRONG)}
    for _ in range(4):  # four failures each: below the throttle
        for name, call in cases.items():
            store.clear()
            checked.clear()
            assert await call() == BadCredentials(), name
            # Each paid for one full argon2id check with today's parameters (the dummy hash
            # for a user without one): the same cost, counted rather than timed (timings
            # on a shared machine are noise).
            assert len(checked) == 1, name
            assert checked[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$"), name
            # The same store work for each: read the credential, count the failure on it.
            assert [op for op, _ in store.ops] in (["get", "insert"], ["get", "replace"]), name
            assert {key for _, key in store.ops} == {credential_key(
                {"wrong": "alice", "no password": "bob", "unknown": "nobody"}[name])}
    # The fifth failure closes each alike: the throttle tells nothing either.
    for name, call in cases.items():
        assert await call() == BadCredentials()
        assert await call() == Throttled(1000), name


async def test_the_throttle_on_a_driven_clock() -> None:
    node = await _alice()
    j, clock = node.journal, node.clock
    for _ in range(5):
        assert await j.authenticate("alice", WRONG) == BadCredentials()
        clock.advance(10)
    # 5 failures in a row: the next attempt waits 1 s from the last failure, right or not.
    last = clock.now - 10
    assert await j.authenticate("alice", SECRET) == Throttled(last + 1000 - clock.now)
    clock.now = last + 999
    assert await j.authenticate("alice", SECRET) == Throttled(1)
    waits: list[int] = []
    for _ in range(12):  # each further failure doubles the wait, up to 300 s
        clock.now = last + (waits[-1] if waits else 1000)
        assert await j.authenticate("alice", WRONG) == BadCredentials()
        last = clock.now
        refused = await j.authenticate("alice", SECRET)
        assert isinstance(refused, Throttled)
        waits.append(refused.retry_after_ms)
    assert waits == [2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000,
                     300000, 300000]
    stored = await _credential(node.store, "alice")
    assert stored is not None and stored.failures == 17  # refused attempts are not counted
    clock.now = last + MAX_WAIT_MS
    assert await j.authenticate("alice", SECRET) == User(0, None)
    assert await j.authenticate("alice", WRONG) == BadCredentials()  # counting from 0 again
    assert await j.authenticate("alice", SECRET) == User(0, None)


async def test_a_throttled_attempt_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    node = await _alice()
    for _ in range(5):
        await node.journal.authenticate("alice", WRONG)
    checks: list[str] = []
    from services.journal import _credentials, _passwords

    real = _credentials.verify_password

    async def counting(hashed: str | None, password: str) -> bool:
        checks.append(password)
        return await real(hashed, password)

    monkeypatch.setattr(_passwords, "verify_password", counting)
    assert isinstance(await node.journal.authenticate("alice", SECRET), Throttled)
    assert isinstance(await node.journal.change_password("alice", SECRET, "n" * 8), Throttled)
    assert checks == []


async def test_a_clock_behind_the_failure_never_waits_longer_than_the_rule() -> None:
    throttled = Credential("h", 7, 1_000_000)
    assert throttled.wait_ms(1_000_000) == 4000
    assert throttled.wait_ms(1_000_000 - 60_000) == 4000  # this node's clock is a minute behind
    assert throttled.wait_ms(1_003_000) == 1000
    assert throttled.wait_ms(1_004_000) == 0
    assert Credential("h", 10**9, 0).wait_ms(0) == MAX_WAIT_MS
    assert Credential("h", 4, 0).wait_ms(0) == 0


class CasCounting(StoreWrapper):
    """Counts the lost CAS races (and inserts that found the key) through it."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.lost = 0

    async def insert(self, key: str, value: Json) -> int:
        try:
            return await super().insert(key, value)
        except Exists:
            self.lost += 1
            raise

    async def replace(self, key: str, value: Json, cas: int) -> int:
        try:
            return await super().replace(key, value, cas)
        except CasMismatch:
            self.lost += 1
            raise


@pytest.mark.parametrize("uid", ["alice", "nobody"])
async def test_concurrent_guesses_all_count_and_only_five_are_checked(uid: str) -> None:
    races = CasCounting(YieldingStore(_memory()))
    node = await _alice(races)
    guesses = await asyncio.gather(*(node.journal.authenticate(uid, f"{WRONG}{i}")
                                     for i in range(12)))
    assert races.lost > 0  # they did race
    assert guesses.count(BadCredentials()) == 5
    assert all(isinstance(g, Throttled) for g in guesses if g != BadCredentials())
    stored = await _credential(node.store, uid)
    assert stored is not None and stored.failures == 5
    # After the wait, a burst gets exactly one guess through, and it counts.
    node.clock.advance(1000)
    guesses = await asyncio.gather(*(node.journal.authenticate(uid, f"{WRONG}{i}")
                                     for i in range(6)))
    assert guesses.count(BadCredentials()) == 1
    assert (await _credential(node.store, uid) or Credential()).failures == 6


class CrashAt(StoreWrapper):
    """Dies (a simulated process death) instead of the first write of ``key``."""

    def __init__(self, inner: DocumentStore, key: str) -> None:
        super().__init__(inner)
        self.key = key

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if key == self.key and op != "get":
            raise Crash(f"{op} {key}")
        return await call()


async def test_a_crash_between_account_and_credential_leaves_an_account_nobody_can_claim(
) -> None:
    store = _memory()
    dying = Node(CrashAt(store, credential_key("alice")))
    with pytest.raises(Crash):
        await dying.journal.create_account("alice", SECRET)
    assert await user_of(store, "alice") == User(0, None)
    assert await value_of(store, credential_key("alice")) is None
    j = Node(store).journal
    # Not the creator's password, not anyone's: a retry of the creation attaches nothing...
    assert await j.create_account("alice", "mallory's password") == AlreadyExists("user",
                                                                                  "alice")
    assert await j.authenticate("alice", "mallory's password") == BadCredentials()
    assert await j.authenticate("alice", SECRET) == BadCredentials()
    # ...and there is no old password to change from.
    assert await j.change_password("alice", SECRET, "mallory's password") == BadCredentials()
    assert (await _credential(store, "alice") or Credential()).hash is None
    # The operator sets one.
    assert await j.reset_password("alice", "a new secret") == PasswordSet("alice")
    assert await j.authenticate("alice", "a new secret") == User(0, None)


async def test_an_in_doubt_account_insert_gets_no_password() -> None:
    store = RecordingStore(_memory())
    store.in_doubt(user_key("alice"), applied=True)
    node = Node(store)
    assert isinstance(await node.journal.create_account("alice", SECRET), Interrupted)
    assert await value_of(store, credential_key("alice")) is None
    assert await node.journal.authenticate("alice", SECRET) == BadCredentials()


async def test_a_password_never_lands_on_an_account_someone_else_created() -> None:
    store = RecordingStore(_memory())
    other = Node(store).journal

    async def created_first() -> None:  # bob's creation, without a password, wins the race
        assert await other.create_account("alice") == Created("user", "alice")

    store.before_insert(user_key("alice"), created_first)
    assert await Node(store).journal.create_account("alice", SECRET) == AlreadyExists(
        "user", "alice")
    assert (await _credential(store, "alice") or Credential()).hash is None
    assert await other.authenticate("alice", SECRET) == BadCredentials()


async def test_an_operators_reset_during_creation_stands() -> None:
    store = RecordingStore(_memory())
    operator = Node(store).journal

    async def reset_first() -> None:
        assert await operator.reset_password("alice", "operator's pick") == PasswordSet("alice")

    store.before_insert(credential_key("alice"), reset_first)
    assert await Node(store).journal.create_account("alice", SECRET) == Created("user", "alice")
    assert await operator.authenticate("alice", SECRET) == BadCredentials()
    assert await operator.authenticate("alice", "operator's pick") == User(0, None)


async def test_a_password_set_on_an_id_tried_before_it_existed() -> None:
    node = Node(_memory())
    for _ in range(3):  # someone guesses at an id nobody has yet: counted on a hashless doc
        assert await node.journal.authenticate("alice", WRONG) == BadCredentials()
    assert await node.journal.create_account("alice", SECRET) == Created("user", "alice")
    stored = await _credential(node.store, "alice")
    assert stored is not None and stored.hash is not None
    assert (stored.failures, stored.failed_at) == (0, None)
    assert await node.journal.authenticate("alice", SECRET) == User(0, None)


async def test_changing_a_password() -> None:
    node = await _alice()
    j = node.journal
    assert await j.change_password("alice", WRONG, "new password") == BadCredentials()
    assert (await _credential(node.store, "alice") or Credential()).failures == 1
    assert await j.change_password("alice", SECRET, "new password") == PasswordSet("alice")
    assert await j.authenticate("alice", SECRET) == BadCredentials()
    assert await j.authenticate("alice", "new password") == User(0, None)
    assert await j.change_password("nobody", SECRET, "new password") == BadCredentials()


async def test_two_changes_from_one_old_password_one_wins() -> None:
    node = await _alice(YieldingStore(_memory()))
    results = await asyncio.gather(node.journal.change_password("alice", SECRET, "first new"),
                                   node.journal.change_password("alice", SECRET, "second new"))
    assert sorted(map(repr, results)) == sorted(map(repr, [PasswordSet("alice"),
                                                           BadCredentials()]))
    winner = "first new" if results[0] == PasswordSet("alice") else "second new"
    assert await node.journal.authenticate("alice", winner) == User(0, None)


async def test_an_old_hash_is_renewed_on_a_success() -> None:
    node = await _alice()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    doc = await node.store.get(credential_key("alice"))
    await node.store.replace(credential_key("alice"),
                             Credential(weak.hash(SECRET)).to_json(), doc.cas)
    assert await node.journal.authenticate("alice", SECRET) == User(0, None)
    stored = await _credential(node.store, "alice")
    assert stored is not None and stored.hash is not None
    assert stored.hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await node.journal.authenticate("alice", SECRET) == User(0, None)


@pytest.mark.parametrize("password", ["", "short12", "x" * 257, "\ud800 lone surrogate"])
async def test_bad_passwords_are_refused_and_write_nothing(password: str) -> None:
    store = RecordingStore(_memory())
    node = await _alice(store)
    j = node.journal
    store.clear()
    created = await j.create_account("bob", password)
    assert isinstance(created, InvalidInput) and created.field == "password"
    assert (await j.authenticate("alice", password)) in (
        InvalidInput("password", "must be 8 to 256 characters"),
        InvalidInput("password", "must be valid Unicode text"))
    old = await j.change_password("alice", password, SECRET)
    new = await j.change_password("alice", SECRET, password)
    assert isinstance(old, InvalidInput) and old.field == "old_password"
    assert isinstance(new, InvalidInput) and new.field == "new_password"
    reset = await j.reset_password("alice", password)
    assert isinstance(reset, InvalidInput) and reset.field == "new_password"
    assert store.writes == []
    assert not password or password not in repr([old, new, reset])  # never echoed


async def test_reset_needs_an_account_and_clears_the_throttle() -> None:
    node = await _alice()
    j = node.journal
    assert await j.reset_password("nobody", "whatever1") == Missing("user", "nobody")
    assert await value_of(node.store, credential_key("nobody")) is None
    assert isinstance(await j.authenticate("bad id!", SECRET), InvalidInput)
    for _ in range(5):
        await j.authenticate("alice", WRONG)
    assert isinstance(await j.authenticate("alice", SECRET), Throttled)
    assert await j.reset_password("alice", "reset by the operator") == PasswordSet("alice")
    assert await j.authenticate("alice", "reset by the operator") == User(0, None)


async def test_a_store_failure_is_interrupted() -> None:
    class Failing(StoreWrapper):
        async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
            if op == "replace":
                raise InDoubt(key, op, "injected")
            return await call()

    node = await _alice()
    failing = Node(Failing(node.store)).journal
    assert isinstance(await failing.authenticate("alice", WRONG), Interrupted)


async def test_the_audit_and_dump_never_see_a_credential() -> None:
    node = await _alice()
    await node.journal.authenticate("nobody", WRONG)
    await node.journal.reset_password("alice", "another secret")
    found = [(key, value) async for key, value, _ in read_documents(node.store)]
    assert found and not any(key.startswith("credential:") for key, _ in found)
    assert "argon2" not in repr(found)
    assert await node.journal.audit(quiescent=True) == []
