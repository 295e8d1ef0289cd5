"""``abc password set|change|check`` and ``abc account create --with-password`` against a real
purchase service with tokens: passwords come from stdin (or a prompt), never from argv; and
``abc dump`` never prints a credential."""

from __future__ import annotations

import asyncio
import getpass
import io
import sys
from pathlib import Path

import pytest

from services.cli import main
from services.runtime import ServerConfig, Tokens
from tests._support.world import store_url
from tests.purchase._support import purchase_server

from .test_money import Abc

pytestmark = pytest.mark.asyncio

SERVER = ServerConfig(listen="127.0.0.1:0", tokens=Tokens.parse("gateway:g1,operator:o1"))


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


async def test_passwords_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    url = store_url(tmp_path)
    async with purchase_server(url, server=SERVER) as running:
        abc = Abc(running.target, capsys)
        gateway, operator = ("--token", "g1"), ("--token", "o1")

        _stdin(monkeypatch, "first secret\n")
        assert await abc("account", "create", "alice", "--with-password", *gateway) == (
            0, "account alice: balance 0\n", "")
        _stdin(monkeypatch, "first secret\n")
        code, out, _ = await abc("password", "check", "alice", *gateway)
        assert (code, out) == (0, "right password; account alice: balance 0\n")
        _stdin(monkeypatch, "first secret \n")  # the space is part of it: wrong
        code, _, err = await abc("password", "check", "alice", *gateway)
        assert code == 1 and "UNAUTHENTICATED: wrong user id or password" in err

        _stdin(monkeypatch, "first secret\nsecond secret\r\n")
        assert (await abc("password", "change", "alice", *gateway))[:2] == (
            0, "password changed\n")
        _stdin(monkeypatch, "the operator's pick\n")
        code, _, err = await abc("password", "set", "alice", *gateway)
        assert code == 1 and "PERMISSION_DENIED" in err
        _stdin(monkeypatch, "the operator's pick\n")
        assert (await abc("password", "set", "alice", *operator))[:2] == (0, "password set\n")
        _stdin(monkeypatch, "the operator's pick\n")
        assert (await abc("password", "check", "alice", *gateway))[0] == 0

        _stdin(monkeypatch, "")
        code, _, err = await abc("password", "set", "alice", *operator)
        assert (code, err) == (2, "abc: no new password on stdin (one line per password)\n")
        _stdin(monkeypatch, "short\n")
        code, _, err = await abc("account", "create", "bob", "--with-password", *gateway)
        assert code == 1 and "INVALID_ARGUMENT: password: must be 8 to 256 characters" in err
        with pytest.raises(SystemExit) as usage:  # never from argv
            await abc("password", "set", "alice", "a password on the command line", *operator)
        assert usage.value.code == 2

    capsys.readouterr()
    assert await asyncio.to_thread(main, ["dump", "--store", url]) == 0
    dumped = capsys.readouterr().out
    assert '"user:alice"' in dumped
    assert "credential" not in dumped and "argon2" not in dumped


async def test_a_new_password_is_typed_twice_on_a_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    typed: list[str] = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: typed.pop(0))
    async with purchase_server(store_url(tmp_path)) as running:
        abc = Abc(running.target, capsys)
        typed[:] = ["a good secret", "a gold secret"]
        code, _, err = await abc("account", "create", "alice", "--with-password")
        assert (code, err) == (2, "abc: the two passwords differ: nothing changed\n")
        typed[:] = ["a good secret", "a good secret"]
        assert (await abc("account", "create", "alice", "--with-password"))[0] == 0
        typed[:] = ["a good secret"]
        assert (await abc("password", "check", "alice"))[0] == 0
        assert typed == []
