"""``abc password set|change|check``: end users' passwords (docs/protocol.md, "Credentials"),
and the reading of a password for them and for ``abc account create --with-password``.

A password is never an argument (argv shows in ``ps`` and in shell history): on a terminal
it is prompted for without echo (a new one twice), otherwise read from stdin, one a line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import Message

from services.api.abc.v1 import purchase_pb2 as pb

from ._calls import Stub, call_options, command
from ._common import CliError, fail

READING = ("The password is never an argument: on a terminal you are asked for it (a new one "
           "twice); otherwise it is read from stdin, one line per password (the line's end "
           "is not part of it), e.g. printf '%s\\n' \"$PW\" | abc ...")


def register(commands: Any, _argv: Sequence[str]) -> None:
    password = commands.add_parser(
        "password", help="set, change or check an end user's password",
        description="End users' passwords, as a gateway uses them (8 to 256 characters; "
                    "stored as an argon2id hash, never shown). " + READING)
    actions = password.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "set", "set a user's password without the old one (operator token)",
                lambda s, a: s.ResetPassword(pb.ResetPasswordRequest(
                    user_id=a.user, new_password=new_password()), **call_options(a)),
                lambda _r: "password set",
                description="Set the user's password without the old one: for an account made "
                            "without a password, or a forgotten one; it also lifts the "
                            "throttle on failed attempts. Takes an operator token (--token "
                            "or ABC_TOKEN). " + READING)
    _user(p)
    p = command(actions, "change", "change a password, given the old one", _change,
                lambda _r: "password changed",
                description="Change the user's password: the old one first, then the new one. A "
                            "wrong old one counts as a failed attempt. " + READING)
    _user(p)
    p = command(actions, "check", "check a password, as a gateway's log-in form does",
                lambda s, a: s.Authenticate(pb.AuthenticateRequest(
                    user_id=a.user, password=password_from("password")), **call_options(a)),
                lambda r: f"right password; account {r.account.user_id}: balance "
                          f"{r.account.balance}",
                description="Check the user's password: exit 0 for the right password, 1 for "
                            "a wrong one (UNAUTHENTICATED, BAD_CREDENTIALS; an unknown user "
                            "answers the same) or while failed attempts are throttled "
                            "(AUTH_THROTTLED, with when to retry). " + READING)
    _user(p)


def _user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user")
    guard(parser)


def guard(parser: argparse.ArgumentParser) -> None:
    """A password that cannot be read ends the command with a message and exit 2."""
    run: Callable[[argparse.Namespace], int] = parser.get_default("run")

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except CliError as exc:
            return fail(str(exc))

    parser.set_defaults(run=guarded)


def _change(stub: Stub, a: argparse.Namespace) -> Message:
    old = password_from("old password")
    return stub.ChangePassword(pb.ChangePasswordRequest(
        user_id=a.user, old_password=old, new_password=new_password()), **call_options(a))


def new_password() -> str:
    """A new password: typed twice on a terminal, else the next line of stdin."""
    typed = password_from("new password")
    if sys.stdin.isatty() and getpass.getpass("new password again: ") != typed:
        raise CliError("the two passwords differ: nothing changed")
    return typed


def password_from(label: str) -> str:
    """Prompted for (no echo) on a terminal, else the next line of stdin."""
    if sys.stdin.isatty():
        try:
            return getpass.getpass(f"{label}: ")
        except EOFError:
            raise CliError(f"no {label} given") from None
    line = sys.stdin.readline()
    if not line:
        raise CliError(f"no {label} on stdin (one line per password)")
    return line.removesuffix("\n").removesuffix("\r")
