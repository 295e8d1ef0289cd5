"""``abc withdraw``, ``abc statement``, ``abc payouts ...`` and ``abc ledger`` against a real
purchase service in this process: what they print, and their exit codes (0 done, 1 refused or
not balanced, 2 a usage error or no service)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.cli import main
from services.journal import user_key
from services.lab.cluster import free_port
from services.lab.loadgen import audit_url
from services.runtime import ServerConfig, Tokens
from tests._support.world import open_world, store_url
from tests.purchase._money import refused_by_rail
from tests.purchase._support import purchase_server

pytestmark = pytest.mark.asyncio

TO = "DE89 3704 0044 0532 0130 00"


class Abc:
    """``abc ARGS --target <the server>`` in a thread (the server runs in this loop)."""

    def __init__(self, target: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.target, self.capsys = target, capsys

    async def __call__(self, *args: str) -> tuple[int, str, str]:
        """Exit code, stdout, stderr."""
        self.capsys.readouterr()
        code = await asyncio.to_thread(main, [*args, "--target", self.target])
        out, err = self.capsys.readouterr()
        return code, out, err


async def test_a_withdrawal_through_the_cli(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url) as running:
        abc = Abc(running.target, capsys)
        await open_world(running.stub, owner="bob", funds=1000, min_price=10)
        await running.stub.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10))

        code, out, _ = await abc("withdraw", "alice", "w1", "100", "--to", TO)
        assert (code, out) == (0, f"withdrawal w1 of alice: 100 (+ fee 0) to {TO!r}, "
                                  "requested; balance 890\n")
        code, out, _ = await abc("withdraw", "alice", "w1", "100", "--to", TO)
        assert code == 0 and "already requested with these fields: nothing changed" in out
        code, _, err = await abc("withdraw", "alice", "w1", "101", "--to", TO)
        assert code == 1 and "ALREADY_EXISTS" in err and "'w1'" in err
        code, _, err = await abc("withdraw", "alice", "w2", "5000", "--to", TO)
        assert code == 1 and "FAILED_PRECONDITION" in err
        assert "reason INSUFFICIENT_FUNDS, balance 890, needed 5000" in err
        code, _, err = await abc("withdraw", "alice", "w2", "10", "--to", "a\tb")
        assert code == 1 and "INVALID_ARGUMENT: destination" in err
        with pytest.raises(SystemExit) as usage:
            await abc("withdraw", "alice", "w2", "1.5", "--to", TO)
        assert usage.value.code == 2
        assert "invalid int value: '1.5'" in capsys.readouterr().err

        code, out, _ = await abc("statement", "alice")
        lines = out.splitlines()
        assert code == 0 and lines[0] == "balance 890" and len(lines) == 3
        assert lines[1].split()[-3:] == ["w1", "-100", "requested"]
        assert lines[2].split()[-3:] == ["deposit", "d1", "+1000"]
        code, out, _ = await abc("statement", "alice", "--limit", "1")
        assert out.splitlines()[1:] == [lines[1], "  ... more (showing the newest 1; see "
                                                  "--limit)"]
        code, out, _ = await abc("statement", "alice", "--json")
        assert [e["kind"] for e in json.loads(out)["entries"]] == ["withdrawal", "deposit"]

        # bob's earnings (9) are credited on the way out.
        code, out, _ = await abc("withdraw", "bob", "b1", "9", "--to", "bob's bank")
        assert code == 0 and out.endswith("; balance 0\n")

        code, out, _ = await abc("payouts", "list")
        assert code == 0 and [line.split("  ", 1)[1] for line in out.splitlines()] == [
            f"withdrawal w1 of alice: 100 (+ fee 0) to {TO!r}, requested",
            "withdrawal b1 of bob: 9 (+ fee 0) to \"bob's bank\", requested"]
        code, out, _ = await abc("payouts", "list", "--state", "paid")
        assert (code, out) == (0, "no withdrawals\n")

        code, out, _ = await abc("payouts", "pay", "alice", "w1", "--reference", "bank-1")
        assert (code, out) == (0, f"withdrawal w1 of alice: 100 (+ fee 0) to {TO!r}, paid, "
                                  "reference 'bank-1', by operator\n")
        code, _, err = await abc("payouts", "reject", "alice", "w1", "--reason", "late")
        assert code == 1 and "FAILED_PRECONDITION" in err and "'w1' is paid" in err
        assert "reason WRONG_STATE, state paid, wanted requested or failed" in err

        code, out, _ = await abc("payouts", "reject", "bob", "b1", "--reason", "closed")
        assert (code, out.splitlines()[-1]) == (0, "9 back in the balance")
        assert "refunded; reason: closed" in out

        await abc("withdraw", "alice", "w3", "40", "--to", TO)
        await refused_by_rail(running.node.wiring.journal, "alice", "w3")
        code, out, _ = await abc("payouts", "retry", "alice", "w3")
        assert code == 0 and "requested (try 2); reason: the bank refused it" in out

        code, out, _ = await abc("ledger")
        assert code == 0
        assert out.splitlines()[-1] == ("balanced: deposits = balances + pending + uncredited "
                                        "+ fees + withdrawn: 1000 = 859 + 0 + 0 + 1 + 140 "
                                        "(difference 0)")
        assert "  paid" in out and "  refunded" in out and "  requested" in out
        code, out, _ = await abc("ledger", "--json")
        assert code == 0 and json.loads(out)["balanced"] is True
    assert await audit_url(url, quiescent=True) == []


async def test_ledger_says_when_the_books_do_not_balance(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        abc = Abc(running.target, capsys)
        await open_world(running.stub, owner="bob", funds=1000)
        store = running.node.wiring.store
        doc = await store.get(user_key("alice"))
        await store.replace(user_key("alice"), {**doc.value, "balance": 1005}, doc.cas)

        code, out, _ = await abc("ledger")
        assert code == 1
        assert out.splitlines()[-1] == ("NOT BALANCED by -5: deposits 1000 != balances + "
                                        "pending + uncredited + fees + withdrawn = 1005 + 0 + "
                                        "0 + 0 + 0")


async def test_the_operators_commands_take_an_operator_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = ServerConfig(listen="127.0.0.1:0", tokens=Tokens.parse("gateway:g1,operator:o1"))
    async with purchase_server(store_url(tmp_path), server=server) as running:
        abc = Abc(running.target, capsys)
        code, _, err = await abc("account", "create", "alice", "--token", "g1")
        assert code == 0
        await abc("account", "deposit", "alice", "100", "--token", "o1")
        code, _, _ = await abc("withdraw", "alice", "w1", "10", "--to", TO, "--token", "g1")
        assert code == 0
        code, out, _ = await abc("statement", "alice", "--token", "g1")
        assert code == 0 and out.startswith("balance 90\n")
        for command in (["payouts", "list"], ["payouts", "pay", "alice", "w1", "--reference",
                                              "r"], ["payouts", "retry", "alice", "w1"],
                        ["payouts", "reject", "alice", "w1", "--reason", "no"], ["ledger"]):
            code, _, err = await abc(*command, "--token", "g1")
            assert (code, err.split(":")[:2]) == (1, ["abc", " PERMISSION_DENIED"]), command
        code, out, _ = await abc("payouts", "list", "--token", "o1")
        assert code == 0 and "withdrawal w1 of alice" in out
        code, out, _ = await abc("ledger", "--token", "o1")
        assert code == 0 and "balanced: " in out


async def test_no_service_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    abc = Abc(f"127.0.0.1:{free_port()}", capsys)
    for command in (["withdraw", "alice", "w1", "1", "--to", TO], ["statement", "alice"],
                    ["payouts", "list"], ["ledger"]):
        code, _, err = await abc(*command)
        assert code == 2 and "can't reach the purchase service" in err, command


@pytest.mark.parametrize("command", [["withdraw"], ["statement"], ["payouts"],
                                     ["payouts", "list"], ["payouts", "pay"],
                                     ["payouts", "reject"], ["payouts", "retry"], ["ledger"]])
async def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert f"usage: abc {' '.join(command)}" in capsys.readouterr().out
