"""Bearer tokens with roles, checked by a server interceptor before any handler runs.

A gateway token may call everything except the operator-only methods each service names
(Deposit: a gateway must never be able to mint money; ResetPassword: nor take over an account
by setting its password without the old one). Health and reflection are always open, so
probes and stock tools work. A rejected call gets UNAUTHENTICATED (no or unknown token) or
PERMISSION_DENIED (a gateway on an operator method), and never reaches the servicer: nothing is
written.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from ._settings import ConfigError

OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


class Role(enum.Enum):
    GATEWAY = "gateway"
    OPERATOR = "operator"


class TokenError(ConfigError):
    """Token configuration that can't be used."""


@dataclass(frozen=True)
class Tokens:
    """The configured tokens: token -> role. Empty means none configured."""

    by_token: Mapping[str, Role]

    @classmethod
    def parse(cls, text: str) -> Tokens:
        """``role:token`` entries separated by commas or new lines (# starts a comment)."""
        tokens: dict[str, Role] = {}
        for raw in text.replace(",", "\n").splitlines():
            entry = raw.split("#", 1)[0].strip()
            if not entry:
                continue
            role, sep, token = entry.partition(":")
            if not sep or not token.strip():
                # Never echo the entry: it may be a bare secret.
                raise TokenError("a token entry is not role:token (role: gateway or operator)")
            try:
                tokens[token.strip()] = Role(role.strip())
            except ValueError:
                raise TokenError(f"unknown role {role.strip()!r}: want gateway or operator") \
                    from None
        return cls(tokens)

    @classmethod
    def load(cls, inline: str | None, file: Path | None) -> Tokens:
        text = inline or ""
        if file is not None:
            try:
                text += "\n" + file.read_text()
            except OSError as exc:
                raise TokenError(f"can't read tokens file {file}: {exc.strerror}") from exc
        return cls.parse(text)

    def role_of(self, token: str) -> Role | None:
        for known, role in self.by_token.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return role
        return None


def bearer(metadata: Any) -> str | None:
    """The token of an ``authorization: Bearer <token>`` entry (the scheme in any case)."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


if TYPE_CHECKING:
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:  # the stubs' generic is not subscriptable at run time
    _Interceptor = grpc.aio.ServerInterceptor


class AuthInterceptor(_Interceptor):
    """Checks the bearer token of every call but health and reflection."""

    def __init__(self, tokens: Tokens, operator_only: frozenset[str], open_: bool) -> None:
        self._tokens = tokens
        self._operator_only = operator_only
        self._open = open_

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails],
                                     Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        method: str = details.method
        if self._open or handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        role = self._tokens.role_of(bearer(details.invocation_metadata) or "")
        if role is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED,
                            "missing or unknown token: send 'authorization: Bearer <token>'")
        if method in self._operator_only and role is not Role.OPERATOR:
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED,
                            f"{method.rsplit('/', 1)[-1]} takes an operator token")
        return handler


def _refusal(
    handler: grpc.RpcMethodHandler[Any, Any], code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape as ``handler`` that only refuses."""

    async def unary(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)

    async def streaming(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)
        yield  # pragma: no cover - makes this an async generator, as a stream handler is

    kw = {"request_deserializer": handler.request_deserializer,
          "response_serializer": handler.response_serializer}
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(streaming, **kw)
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary, **kw)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary, **kw)
    return grpc.stream_stream_rpc_method_handler(streaming, **kw)
