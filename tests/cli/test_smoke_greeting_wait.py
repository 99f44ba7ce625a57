"""`voicecli smoke --greeting-wait`: how long the first turn waits for a greeting."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

import voicecli.cli.smoke as smoke
from voicecli.cli.main import app
from voicecli.scenario.attribution import SmokeReport
from voicecli.scenario.conversation import GREETING_WAIT_S


def invoke(*args: str) -> tuple[int, str]:
    """The command's exit code as ``voicecli`` exits with it (``main`` passes on the return value)."""
    result = CliRunner().invoke(app, ["smoke", "--url", "ws://127.0.0.1:9/x", "--dialect", "atoms", *args],
                                standalone_mode=False)
    assert result.exception is None, result.output
    return result.return_value, result.output


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
