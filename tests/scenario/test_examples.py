"""`make test` runs the shipped example scenarios against the built-in local agent (real
speech: offline voice in, recognizer and rules brain on the agent), and reads the JUnit
XML with a JUnit parser and the JSON report with its published schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from tests.scenario.conftest import Cli
from voicecli.scenario.reports import SCHEMA_FILE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


@pytest.mark.slow
def test_the_example_scenarios_pass_against_the_local_agent(cli: Cli, tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    # three conversations at once in real time with the local agent's speech, each within its
    # latency budget: a process of its own, ahead of the suite's other work, as from a terminal
    proc = cli.run("test", str(EXAMPLES), "--jobs", "3", "--junit", str(junit), "--report", str(report),
                   timeout=240, ahead=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(EXAMPLES.glob("*.yaml"))
    xml = JUnitXml.fromfile(str(junit))
    suites = list(xml)
    assert {suite.name for suite in suites} == {
        "arithmetic by voice and by text", "barge-in during the help text", "local time from a client tool"}
    assert len(suites) == len(files)
    for suite in suites:
        cases = list(suite)
        assert len(cases) >= 2 and all(case.is_passed for case in cases), suite.name
    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    assert data["summary"] == {"scenarios": len(files), "passed": len(files), "failed": 0}
    by_name = {s["name"]: s for s in data["scenarios"]}
    sums = by_name["arithmetic by voice and by text"]["turns"]
    assert "twelve" in sums[0]["user_transcript"] and "19" in sums[0]["agent_transcript"]
    assert by_name["barge-in during the help text"]["turns"][0]["interrupted"] is True
    assert by_name["local time from a client tool"]["turns"][0]["tool_calls"][0]["name"] == "get_local_time"
