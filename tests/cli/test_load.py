"""``abc load`` and ``abc audit`` as a user runs them: a summary, the audit it points to, and
bad input refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import main


def test_abc_load_on_sqlite_then_the_quiescent_audit_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/new/x.db"  # an absolute path: four slashes; dir made on demand
    assert main(["load", "--store", url, "--purchases", "30"]) == 0
    out = capsys.readouterr().out
    assert "attempts" in out and "purchases/s" in out and "p99" in out
    assert f"abc audit --store {url} --quiescent" in out
    assert main(["load", "--store", url, "--purchases", "30", "--hot"]) == 0  # a second world
    assert main(["audit", "--store", url, "--quiescent"]) == 0


def test_abc_load_on_memory_audits_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--store", "memory://", "--purchases", "20", "--buyers", "3"]) == 0
    assert "quiescent audit (in process, memory store): 0 violation(s)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["load", "--store", "bogus://nowhere"],
    ["load", "--store", "sqlite:///"],
    ["load", "--store", "memory://", "--buyers", "0"],
])
def test_bad_input_is_one_line_not_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("abc: ") and err.count("\n") == 1
    assert "Traceback" not in err
