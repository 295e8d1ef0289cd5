"""``abc demo`` refuses a ``--data`` directory that already holds a store: exit code 2 and a
message asking for a fresh one. (The demo itself, under chaos: tests/lab/demo.)"""

from __future__ import annotations

from pathlib import Path

from tests._support.processes import abc, reaped


def test_demo_refuses_a_directory_that_holds_a_store(tmp_path: Path) -> None:
    (tmp_path / "abc.db").write_bytes(b"")
    demo = abc(["demo", "--data", str(tmp_path)], tmp_path / "demo.stderr")
    with reaped(demo):
        assert demo.wait(60) == 2
    assert "fresh --data" in (tmp_path / "demo.stderr").read_text()
