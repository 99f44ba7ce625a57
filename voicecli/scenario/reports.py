"""Reports of a scenario run: JUnit XML (one test case per scenario and one per turn), the
versioned JSON report (its schema: ``report.schema.json`` beside this module) and a
Markdown summary."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from voicecli.scenario.results import Failure, ScenarioResult
from voicecli.secrets import redact

SCHEMA_NAME = "voicecli.scenario-report"
SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("report.schema.json")


def exit_code(results: list[ScenarioResult]) -> int:
    """0 when every scenario passed, else the first failing one's code."""
    return next((r.exit_code or 1 for r in results if not r.ok), 0)


def json_report(results: list[ScenarioResult], started_at: float | None = None) -> dict[str, Any]:
    passed = sum(1 for r in results if r.ok)
    return {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "ok": passed == len(results),
        "exit_code": exit_code(results),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at or time.time())),
        "duration_s": round(sum(r.duration_s for r in results), 3),
        "summary": {"scenarios": len(results), "passed": passed, "failed": len(results) - passed},
        "scenarios": [r.to_dict() for r in results],
    }


def junit_xml(results: list[ScenarioResult]) -> str:
    suites = ET.Element("testsuites", name="voicecli scenarios")
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for result in results:
        cases: list[tuple[str, list[Failure], float]] = [(result.name, result.failures, result.duration_s)]
        for turn in result.turns:
            label = turn.content if len(turn.content) <= 60 else turn.content[:59] + "…"
            cases.append((f"{result.name} / turn {turn.index} ({turn.input}: {label})", turn.failures,
                          (turn.reply_ms or 0.0) / 1000))
        failed = sum(1 for _, failures, _ in cases if failures)
        suite = ET.SubElement(suites, "testsuite", name=result.name, tests=str(len(cases)), failures=str(failed),
                              errors="0", skipped="0", time=f"{result.duration_s:.3f}", file=result.file)
        for name, failures, seconds in cases:
            case = ET.SubElement(suite, "testcase", name=name, classname=result.file, time=f"{seconds:.3f}")
            if failures:
                message = "; ".join(f.describe() for f in failures)
                element = ET.SubElement(case, "failure", message=message, type=failures[0].expectation)
                element.text = "\n".join(f.describe() for f in failures)
        out = ET.SubElement(suite, "system-out")
        out.text = _transcript(result)
        totals["tests"] += len(cases)
        totals["failures"] += failed
        totals["time"] += result.duration_s
    for key, value in totals.items():
        suites.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _transcript(result: ScenarioResult) -> str:
    lines = [f"greeting: {result.greeting}"] if result.greeting else []
    for turn in result.turns:
        lines.append(f"turn {turn.index} [{turn.input}] {turn.content}")
        if turn.user_transcript:
            lines.append(f"  heard: {turn.user_transcript}")
        lines.append(f"  agent: {turn.agent_transcript or '(no reply)'}")
    return "\n".join(lines)


def markdown(results: list[ScenarioResult]) -> str:
    passed = sum(1 for r in results if r.ok)
    lines = [f"## voicecli scenarios: {passed}/{len(results)} passed", "",
             "| scenario | result | turns | first audio (ms, worst) | time (s) |",
             "|---|---|---|---|---|"]
    for r in results:
        worst = max((t.first_audio_ms for t in r.turns if t.first_audio_ms is not None), default=None)
        lines.append(f"| {_cell(r.name)} | {'pass' if r.ok else 'FAIL'} | {len(r.turns)} | "
                     f"{'-' if worst is None else f'{worst:g}'} | {r.duration_s:g} |")
    failing = [r for r in results if not r.ok]
    if failing:
        lines += ["", "### Failures", ""]
        for r in failing:
            for failure in r.all_failures():
                lines.append(f"- **{_cell(r.name)}** ({r.file}) {_cell(failure.describe())}")
            if r.recording:
                lines.append(f"  - recording: `{r.recording}`")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(path: Path, text: str) -> None:
    """Write a report (secrets masked, as everywhere voicecli writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(text), encoding="utf-8")


def write_json(path: Path, data: dict[str, Any]) -> None:
    write(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
