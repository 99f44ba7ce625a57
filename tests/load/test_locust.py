"""The shipped Locust user, distributed: a headless master and two workers on loopback for
a bounded time drive scenario conversations against a real local agent; the voice figures
arrive as Locust request stats and a failed scenario as a Locust failure naming turn and
expectation."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.conftest import TEST_KEY
from tests.scenario.conftest import write

LOCUSTFILE = Path(__file__).resolve().parents[2] / "voicecli" / "load" / "locustfile.py"
LOCUST = Path(sys.executable).with_name("locust")

SCENARIO = """\
version: 1
name: locust turn
target: {{dialect: atoms, agent: agent_1}}
settings: {{greeting_wait_s: 0.2, timeout_s: 30}}
turns:
  - text: hello
    expect:
      reply_contains_any: [{want}]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_locust(tmp_path: Path, url: str, scenario: Path) -> tuple[list[dict[str, Any]], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"SMALLEST_API_KEY": TEST_KEY, "VOICECLI_SCENARIO": str(scenario), "VOICECLI_URL": url,
                "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(LOCUSTFILE.parents[2])})
    common = [str(LOCUST), "-f", str(LOCUSTFILE)]
    master = subprocess.Popen([*common, "--master", "--headless", "-u", "4", "-r", "4", "-t", "12s",
                               "--stop-timeout", "20", "--expect-workers", "2", "--master-bind-host", "127.0.0.1",
                               "--master-bind-port", str(port), "--json", "--only-summary"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    workers = [subprocess.Popen([*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for _ in range(2)]
    try:
        out, err = master.communicate(timeout=90)
    finally:
        for proc in [master, *workers]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
    return json.loads(out), err


def test_a_master_and_two_workers_report_voice_figures(tmp_path: Path, echo_url: str) -> None:
    stats, err = run_locust(tmp_path, echo_url, write(tmp_path, "ok.yaml", SCENARIO.format(want="you said")))
    by_name = {entry["name"]: entry for entry in stats}
    assert {"connect", "ready", "first audio", "turn", "frame lateness p99", "conversation"} <= set(by_name), err
    conversations = by_name["conversation"]
    assert conversations["num_requests"] >= 4 and conversations["num_failures"] == 0, err
    assert all(entry["method"] == "voice" for entry in stats)
    assert by_name["first audio"]["num_requests"] == conversations["num_requests"]
    assert 0 < by_name["first audio"]["min_response_time"] <= by_name["turn"]["max_response_time"]
    assert "2 workers connected" in err


def test_a_failing_scenario_is_a_locust_failure_naming_turn_and_expectation(tmp_path: Path, echo_url: str) -> None:
    stats, err = run_locust(tmp_path, echo_url, write(tmp_path, "bad.yaml", SCENARIO.format(want="goodbye")))
    conversations = next(entry for entry in stats if entry["name"] == "conversation")
    assert conversations["num_requests"] >= 4 and conversations["num_failures"] == conversations["num_requests"]
    assert "turn 1: reply_contains_any: 'You said: hello.' contains none of ['goodbye']" in err
