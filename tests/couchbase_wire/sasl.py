"""The server side of SASL as memcached runs it (kv_engine ``docs/SASL.md``): SCRAM-SHA512,
SCRAM-SHA256, SCRAM-SHA1 (RFC 5802; RFC 7677 for SHA-256) and PLAIN (RFC 4616).

On the wire: SASL_AUTH carries the mechanism name as its key and the client's first message as
its value; a SCRAM server answers status 0x21 (continue) with its first message, the client
sends SASL_STEP (key: mechanism, value: client-final-message), and the server answers success
with its final message ``v=<server signature>``, or 0x20 (auth error).

The SCRAM exchange, for hash ``H`` and ``HMAC`` over it::

    client-first  n,,n=<user>,r=<client nonce>          (bare = without the "n,," GS2 header)
    server-first  r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>
    client-final  c=biws,r=<nonce>,p=<base64 ClientProof>
    server-final  v=<base64 ServerSignature>

    SaltedPassword  = PBKDF2-HMAC-H(password, salt, iterations)
    ClientKey       = HMAC(SaltedPassword, "Client Key");  StoredKey = H(ClientKey)
    ServerKey       = HMAC(SaltedPassword, "Server Key")
    AuthMessage     = client-first-bare + "," + server-first + "," + client-final-without-proof
    ClientSignature = HMAC(StoredKey, AuthMessage);  ClientProof = ClientKey XOR ClientSignature
    ServerSignature = HMAC(ServerKey, AuthMessage)

The server checks a proof by recovering ``ClientKey = ClientProof XOR ClientSignature`` and
comparing ``H(ClientKey)`` with the StoredKey it keeps; it never needs the password itself
after salting (it keeps it only because a test server makes its users from plain passwords).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

HASHES = {"SCRAM-SHA512": "sha512", "SCRAM-SHA256": "sha256", "SCRAM-SHA1": "sha1"}
MECHANISMS = ("SCRAM-SHA512", "SCRAM-SHA256", "SCRAM-SHA1", "PLAIN")
ITERATIONS = 4096  # RFC 5802's minimum; the real server uses more (the client computes it too)


class AuthFailed(Exception):
    """Wrong user, password, proof or message: the server answers status 0x20."""


@dataclass(frozen=True, slots=True)
class ScramKeys:
    """What a SCRAM server stores for one user and one hash."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    @classmethod
    def derive(cls, hash_name: str, password: str, salt: bytes, iterations: int) -> ScramKeys:
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", hash_name)
        return cls(salt, iterations, hashlib.new(hash_name, client_key).digest(),
                   hmac.digest(salted, b"Server Key", hash_name))


class UserBase:
    """Users and their passwords; SCRAM keys derived once per user and hash."""

    def __init__(self, users: dict[str, str], iterations: int = ITERATIONS,
                 salt: bytes | None = None) -> None:
        self._passwords = dict(users)
        self._iterations = iterations
        self._salt = salt  # None: a random salt per user and hash (a test may fix one)
        self._keys: dict[tuple[str, str], ScramKeys] = {}

    def password(self, user: str) -> str | None:
        return self._passwords.get(user)

    def scram_keys(self, user: str, hash_name: str) -> ScramKeys | None:
        password = self._passwords.get(user)
        if password is None:
            return None
        keys = self._keys.get((user, hash_name))
        if keys is None:
            salt = self._salt if self._salt is not None else os.urandom(16)
            keys = ScramKeys.derive(hash_name, password, salt, self._iterations)
            self._keys[user, hash_name] = keys
        return keys


class SaslSession:
    """One connection's authentication: ``start`` (SASL_AUTH) then maybe ``step`` (SASL_STEP).
    Each returns ``(done, payload)``: done False means "continue" (status 0x21)."""

    def __init__(self, users: UserBase, mechanisms: tuple[str, ...] = MECHANISMS,
                 server_nonce: Callable[[], str] | None = None) -> None:
        self.users = users
        self.mechanisms = mechanisms
        self._server_nonce = server_nonce or _random_nonce
        self.user: str | None = None  # set once authenticated
        self._mechanism: str | None = None
        self._keys: ScramKeys | None = None
        self._pending_user = ""
        self._nonce = ""
        self._auth_prefix = ""  # client-first-bare + "," + server-first

    def start(self, mechanism: str, data: bytes) -> tuple[bool, bytes]:
        if mechanism not in self.mechanisms:
            raise AuthFailed(f"mechanism {mechanism!r} not offered")
        self._mechanism = mechanism
        if mechanism == "PLAIN":
            return True, self._plain(data)
        return False, self._scram_first(HASHES[mechanism], data)

    def step(self, mechanism: str, data: bytes) -> tuple[bool, bytes]:
        if mechanism != self._mechanism or self._keys is None:
            raise AuthFailed("SASL_STEP without a SCRAM exchange in progress")
        return True, self._scram_final(HASHES[mechanism], data)

    def _plain(self, data: bytes) -> bytes:
        try:
            _authzid, user, password = data.decode().split("\0")
        except ValueError as exc:
            raise AuthFailed("PLAIN: want authzid NUL user NUL password") from exc
        expected = self.users.password(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise AuthFailed("PLAIN: wrong user or password")
        self.user = user
        return b""

    def _scram_first(self, hash_name: str, data: bytes) -> bytes:
        text = data.decode()
        gs2_flag, _, rest = text.partition(",")
        _authzid, _, bare = rest.partition(",")
        if gs2_flag not in ("n", "y"):
            raise AuthFailed("SCRAM: channel binding is not supported")
        attributes = _attributes(bare)
        if "n" not in attributes or "r" not in attributes:
            raise AuthFailed("SCRAM: client-first-message wants n= and r=")
        user = attributes["n"].replace("=2C", ",").replace("=3D", "=")
        keys = self.users.scram_keys(user, hash_name)
        if keys is None:
            raise AuthFailed(f"SCRAM: no user {user!r}")
        self._keys, self._pending_user = keys, user
        self._nonce = attributes["r"] + self._server_nonce()
        server_first = (f"r={self._nonce},s={base64.b64encode(keys.salt).decode()},"
                        f"i={keys.iterations}")
        self._auth_prefix = f"{bare},{server_first}"
        return server_first.encode()

    def _scram_final(self, hash_name: str, data: bytes) -> bytes:
        assert self._keys is not None
        text = data.decode()
        without_proof, sep, proof_b64 = text.rpartition(",p=")
        if not sep:
            raise AuthFailed("SCRAM: client-final-message has no proof")
        if _attributes(without_proof).get("r") != self._nonce:
            raise AuthFailed("SCRAM: nonce mismatch")
        auth_message = f"{self._auth_prefix},{without_proof}".encode()
        client_signature = hmac.digest(self._keys.stored_key, auth_message, hash_name)
        proof = base64.b64decode(proof_b64)
        if len(proof) != len(client_signature):
            raise AuthFailed("SCRAM: proof has the wrong size")
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
        if not hmac.compare_digest(hashlib.new(hash_name, client_key).digest(),
                                   self._keys.stored_key):
            raise AuthFailed("SCRAM: wrong password")
        self.user = self._pending_user
        signature = hmac.digest(self._keys.server_key, auth_message, hash_name)
        return b"v=" + base64.b64encode(signature)


def _random_nonce() -> str:
    return base64.b64encode(os.urandom(18)).decode()


def _attributes(text: str) -> dict[str, str]:
    """``k=v,k=v`` (values may contain '='; keys are one letter)."""
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep and len(key) == 1:
            out.setdefault(key, value)
    return out
