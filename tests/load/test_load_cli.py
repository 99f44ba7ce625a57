"""`voicecli load`: concurrent sessions of one scenario against a real local agent (tone
voice, echo brain), the report's figures, the pass-rate exit code, and bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scenario.conftest import Cli, write
from voicecli.cli.load import parse_duration, parse_ramp, render

ONE_TURN = """\
version: 1
name: one turn
target: {{dialect: atoms, agent: agent_1}}
settings: {{greeting_wait_s: 0.2, timeout_s: 30}}
turns:
  - text: hello
    expect:
      reply_contains_any: [{want}]
"""


def test_concurrent_sessions_report_their_figures(cli: Cli, echo_url: str, tmp_path: Path) -> None:
    scenario = write(tmp_path, "one.yaml", ONE_TURN.format(want="you said"))
    proc = cli.run("load", str(scenario), "--url", echo_url, "--sessions", "4", "--ramp", "20/s",
                   "--duration", "2s", "--json", timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["peak_concurrent"] == 4 and report["conversations"] >= 4
    assert report["pass_rate"] == 1.0 and report["errors"] == {}
    for name in ("connect_ms", "ready_ms", "first_audio_ms", "turn_ms"):
        figure = report["latency_ms"][name]
        assert figure["n"] >= 4 and 0 < figure["p50"] <= figure["p95"] <= figure["p99"] <= figure["max"], name
    assert report["frame_lateness_ms"]["n"] > 100  # every session's microphone streamed
    steady = report["generator_cpu"]["steady"]
    assert steady["sessions"] == 4 and steady["cores_used"] > 0 and steady["sessions_per_core"] > 0
    assert "frame_lateness_ms" in render(report)


def test_failed_conversations_are_counted_by_kind_and_fail_the_run(cli: Cli, echo_url: str, tmp_path: Path) -> None:
    scenario = write(tmp_path, "bad.yaml", ONE_TURN.format(want="goodbye"))
    proc = cli.run("load", str(scenario), "--url", echo_url, "--sessions", "2", "--ramp", "10",
                   "--duration", "1", timeout=90)
    assert proc.returncode == 9, proc.stdout + proc.stderr
    assert "errors: expectation:reply_contains_any" in proc.stdout
    assert "pass rate 0.0%" in proc.stdout
    assert "active" in proc.stderr  # the live progress line


@pytest.mark.parametrize(("args", "message"), [
    (("--ramp", "fast"), "--ramp must be sessions per second"),
    (("--duration", "-3s"), "--duration must be a time"),
    (("--sessions", "0"), "Invalid value for '--sessions'"),
])
def test_bad_options_are_one_line(cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    scenario = write(tmp_path, "one.yaml", ONE_TURN.format(want="x"))
    proc = cli.run("load", str(scenario), *args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_ramp_and_duration_units() -> None:
    assert parse_ramp("10/s") == parse_ramp(" 10 ") == 10.0
    assert parse_duration("90") == parse_duration("1.5m") == 90.0 and parse_duration("1h") == 3600.0
