"""``abc sim`` as a user runs it: a summary, coverage, and for a failing seed the replay."""

from __future__ import annotations

import pytest

from services.cli import main


def test_passing_run_prints_summary_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--seeds", "40", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "40 passed, 0 failed" in out
    assert "after buy.fill" in out and "outcomes seen" in out


def test_failing_seed_prints_replay_and_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sim", "--seeds", "40", "--jobs", "1", "--disable", "finish_before_buy"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED seed" in out and "invariant 4" in out
    assert "replay: abc sim --seed" in out and "--disable finish_before_buy" in out
    assert " ms  " in out  # trace lines


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--seeds", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
