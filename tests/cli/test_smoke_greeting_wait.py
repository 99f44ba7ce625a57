"""`voicecli smoke --greeting-wait`: how long the first turn waits for a greeting."""

from __future__ import annotations

import os
from typing import Any

import pytest

import voicecli.cli.smoke as smoke
from tests.support.inprocess import run_in_process
from voicecli.scenario.attribution import SmokeReport
from voicecli.scenario.conversation import GREETING_WAIT_S


def invoke(*args: str) -> tuple[int, str]:
    """``voicecli smoke`` in this process (its logging set up and put back as for a process)."""
    proc = run_in_process(["smoke", "--url", "ws://127.0.0.1:9/x", "--dialect", "atoms", *args], dict(os.environ))
    return proc.returncode, proc.stderr


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    async def run_smoke(target: Any, steps: Any, **options: Any) -> SmokeReport:
        seen.append(options)
        return SmokeReport(ok=True, dialect=target.dialect)

    monkeypatch.setattr(smoke, "run_smoke", run_smoke)
    return seen


@pytest.mark.parametrize(("args", "wait"), [([], GREETING_WAIT_S), (["--greeting-wait", "0"], 0.0),
                                            (["--greeting-wait", "5.5"], 5.5)])
def test_the_wait_reaches_the_runner(calls: list[dict[str, Any]], args: list[str], wait: float) -> None:
    code, output = invoke(*args)
    assert code == 0, output
    assert [c["greeting_wait_s"] for c in calls] == [wait]


@pytest.mark.parametrize("value", ["-1", "nan", "1e9"])
def test_a_bad_wait_is_one_line_and_exit_2(calls: list[dict[str, Any]], value: str) -> None:
    code, output = invoke("--greeting-wait", value)
    assert code == 2 and not calls
    assert "voicecli: error: --greeting-wait must be a number of seconds" in output
    assert "Traceback" not in output
