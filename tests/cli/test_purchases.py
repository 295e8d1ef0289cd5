"""``abc purchases`` and the purchases in ``abc statement``, against a real purchase service
in this process: what they print, and their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.cli import main
from services.lab.cluster import free_port
from tests._support.world import KITES, open_world, store_url
from tests.purchase._support import purchase_server

from .test_money import Abc

pytestmark = pytest.mark.asyncio


async def test_a_users_purchases_through_the_cli(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    async with purchase_server(store_url(tmp_path)) as running:
        abc, s = Abc(running.target, capsys), running.stub
        await open_world(s, owner="bob", funds=1000, min_price=10, filler=KITES)
        bought: list[types_pb2.FilledSlot] = []
        for filler in ("f1", "", "f1"):
            done = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1",
                                              max_price=1000, filler_id=filler))
            bought.append(done.slot)
        code, out, _ = await abc("purchases", "alice")
        assert (code, out) == (0, "no purchases listed yet\n")

        await running.node.wiring.journal.credit("c1")
        code, out, _ = await abc("purchases", "alice")
        lines = out.splitlines()
        assert code == 0 and len(lines) == 3
        assert [line.split()[3:6] for line in lines] == [
            [f"c1:{f.slot}", str(f.price), "filler" if f.filler_id else "no"]
            for f in reversed(bought)]
        assert lines[0].split()[6] == "f1," and lines[1].split()[5:7] == ["no", "filler,"]
        code, out, _ = await abc("purchases", "alice", "--limit", "2")
        assert out.splitlines() == [*lines[:2], "  ... more (showing the newest 2; see "
                                                "--limit)"]
        code, out, _ = await abc("purchases", "alice", "--json")
        assert [(p["campaign_id"], int(p["slot"])) for p in json.loads(out)["purchases"]] == \
            [("c1", 3), ("c1", 2), ("c1", 1)]

        code, out, _ = await abc("statement", "alice")
        rows = [line.split()[-3:] for line in out.splitlines()[1:]]
        assert code == 0 and rows == [
            *(["purchase", f"c1:{f.slot}", f"{-f.price:+}"] for f in reversed(bought)),
            ["deposit", "d1", "+1000"]]
        assert out.splitlines()[0] == f"balance {1000 - sum(f.price for f in bought)}"

        code, _, err = await abc("purchases", "ghost")
        assert code == 1 and "NOT_FOUND" in err and "'ghost'" in err
        code, _, err = await abc("purchases", "a b")
        assert code == 1 and "INVALID_ARGUMENT: user_id" in err


async def test_no_service_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code = await Abc(f"127.0.0.1:{free_port()}", capsys)("purchases", "alice")
    assert code[0] == 2 and "can't reach the purchase service" in code[2]
    with pytest.raises(SystemExit) as done:
        main(["purchases", "--help"])
    assert done.value.code == 0
    assert "usage: abc purchases" in capsys.readouterr().out
