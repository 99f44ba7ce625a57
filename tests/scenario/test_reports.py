"""Reports: the JSON report follows its published schema; JUnit XML has a case per scenario
and per turn, failures on the case they belong to; Markdown lists the failures."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from junitparser import Failure as JFailure
from junitparser import JUnitXml

from voicecli.scenario import reports
from voicecli.scenario.results import Failure, ScenarioResult, TurnResult
from voicecli.secrets import register


def results() -> list[ScenarioResult]:
    ok = ScenarioResult(name="good", file="good.yaml", ok=True, duration_s=2.5, clean_close=True,
                        turns=[TurnResult(index=1, input="text", content="hello", first_audio_ms=120.0)])
    bad = ScenarioResult(name="bad | pipes", file="bad.yaml", exit_code=9, duration_s=3.0, recording="rec/bad",
                         turns=[TurnResult(index=1, input="say", content="hi <there> & you"),
                                TurnResult(index=2, input="wait", content="tool_call",
                                           failures=[Failure(2, "wait_for", "no tool_call event within 2 s")])],
                         failures=[Failure(None, "no_errors", "the server reported: boom")])
    return [ok, bad]


def test_the_json_report_follows_its_schema_and_reads_back() -> None:
    data = reports.json_report(results())
    jsonschema.validate(data, json.loads(reports.SCHEMA_FILE.read_text()))
    assert (data["ok"], data["exit_code"], data["summary"]) == (False, 9, {"scenarios": 2, "passed": 1, "failed": 1})
    back = ScenarioResult.from_dict(json.loads(json.dumps(data))["scenarios"][1])
    assert back == results()[1]


def test_junit_has_a_case_per_scenario_and_turn_with_failures_where_they_belong(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    reports.write(path, reports.junit_xml(results()))
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"good", "bad | pipes"}
    bad = {case.name: case for case in suites["bad | pipes"]}
    assert list(bad) == ["bad | pipes", "bad | pipes / turn 1 (say: hi <there> & you)",
                         "bad | pipes / turn 2 (wait: tool_call)"]
    failed = {name: [r for r in case.result if isinstance(r, JFailure)] for name, case in bad.items()}
    assert failed["bad | pipes"][0].type == "no_errors"
    assert failed["bad | pipes / turn 1 (say: hi <there> & you)"] == []
    wait = failed["bad | pipes / turn 2 (wait: tool_call)"]
    assert wait[0].message == "turn 2: wait_for: no tool_call event within 2 s"
    assert suites["bad | pipes"].failures == 2 and suites["good"].failures == 0
    assert suites["good"].tests == 2


def test_markdown_summarises_and_lists_failures() -> None:
    text = reports.markdown(results())
    assert text.startswith("## voicecli scenarios: 1/2 passed\n")
    assert "| good | pass | 1 | 120 | 2.5 |" in text
    assert "| bad \\| pipes | FAIL | 2 | - | 3 |" in text
    assert "- **bad \\| pipes** (bad.yaml) turn 2: wait_for: no tool_call event within 2 s" in text
    assert "recording: `rec/bad`" in text
    assert reports.exit_code(results()) == 9 and reports.exit_code(results()[:1]) == 0


def test_reports_never_hold_a_key(tmp_path: Path) -> None:
    key = "sk_scenario_report_Qx93"
    register(key)
    leaky = results()
    leaky[1].error = f"the server said: bad key {key}"
    for name, text in (("r.json", json.dumps(reports.json_report(leaky))), ("r.xml", reports.junit_xml(leaky)),
                       ("r.md", reports.markdown(leaky))):
        reports.write(tmp_path / name, text)
        assert key not in (tmp_path / name).read_text(), name
    assert "the server said: bad key" in (tmp_path / "r.json").read_text()
