"""``voicecli test PATH...`` runs scenario files; ``voicecli replay RECORDING --scenario FILE``
re-scores a recorded conversation offline.

Every file is read and validated, and its inputs prepared (audio read, ``say`` text
spoken), before anything connects: a bad file is one line naming file, line and field
(exit 2). Scenarios run one after the other (``--jobs N``: N at once); those with no URL (no ``target.url``, no
profile with one, no ``--url``) share one built-in local agent, started once. The exit
code is 0 when all pass, else the first failing scenario's (9 when it failed only on its
expectations).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from voicecli.cli.common import LOCAL_AGENT_ID, setup_logging
from voicecli.cli.config import Target, api_key, key_required, resolve
from voicecli.cli.output import print_error, print_json, print_notice
from voicecli.errors import EXIT_INTERRUPTED, UsageError, VoicecliError
from voicecli.protocol.base import Adapter
from voicecli.protocol.registry import adapter_class
from voicecli.scenario import reports
from voicecli.scenario.conversation import Step
from voicecli.scenario.expectations import score
from voicecli.scenario.loader import ScenarioFile, expand, load
from voicecli.scenario.recording import RESULT_NAME
from voicecli.scenario.results import Failure, ScenarioResult
from voicecli.scenario.runner import run_scenario, steps_for
from voicecli.secrets import Secret, redact

Option = typer.Option


class Endpoints:
    """Adapters for each scenario's target; the local agent is started on first need."""

    def __init__(self, stack: contextlib.AsyncExitStack) -> None:
        self.stack = stack
        self.local_url: str | None = None
        self.lock = asyncio.Lock()  # one local agent, however many scenarios start at once

    async def adapter(self, target: Target) -> Adapter:
        cls = adapter_class(target.dialect)
        if not target.local:
            return cls(target.dialect_config(api_key=api_key(target, required=key_required(target))))
        if self.local_url is None:
            from voicecli.agent.config import AgentConfig
            from voicecli.agent.server import LocalAgent

            agent = await self.stack.enter_async_context(LocalAgent(AgentConfig(api_key=None)))
            self.local_url = agent.url
        target.agent_id = target.agent_id or LOCAL_AGENT_ID
        return cls(target.dialect_config(url=self.local_url, api_key=Secret("sk_local_embedded")))


def target_for(file: ScenarioFile, overrides: dict[str, Any], config: str | None) -> Target:
    spec = file.scenario.target
    return resolve(profile=overrides["profile"] or spec.profile, url=overrides["url"] or spec.url,
                   dialect=overrides["dialect"] or spec.dialect, agent=overrides["agent"] or spec.agent,
                   sample_rate=spec.sample_rate, variables=dict(file.scenario.variables), config_file=config,
                   default_to_atoms_with_agent=False)


async def _run_all(planned: list[tuple[ScenarioFile, Target, list[Step]]], *, allow_insecure: bool,
                   record: Path | None, progress: bool, jobs: int = 1) -> list[ScenarioResult]:
    """Every scenario, ``jobs`` at a time; the results in the order planned."""
    gate = asyncio.Semaphore(jobs)

    async def one(file: ScenarioFile, target: Target, steps: list[Step]) -> ScenarioResult:
        async with gate:
            try:
                async with endpoints.lock:
                    adapter = await endpoints.adapter(target)
                result = await run_scenario(file, adapter, steps=steps, allow_insecure=allow_insecure,
                                            record_to=record)
            except VoicecliError as exc:
                message = redact(str(exc))
                result = ScenarioResult(file.scenario.name, str(file.path), error=message,
                                        exit_code=exc.exit_code, failures=[Failure(None, "session", message)])
            if progress:
                _print_result(result)
            return result

    async with contextlib.AsyncExitStack() as stack:
        endpoints = Endpoints(stack)
        return list(await asyncio.gather(*(one(*plan) for plan in planned)))


def _print_result(result: ScenarioResult) -> None:
    mark = "PASS" if result.ok else "FAIL"
    print(f"{mark} {result.name} ({result.file}): {len(result.turns)} turns, {result.duration_s:g} s", flush=True)
    for failure in result.all_failures():
        print(f"  {failure.describe()}", flush=True)
    if result.recording:
        print(f"  recorded: {result.recording}", flush=True)


def _write_reports(results: list[ScenarioResult], started: float, junit: Path | None, report: Path | None,
                   markdown: Path | None) -> dict[str, Any]:
    data = reports.json_report(results, started)
    try:
        if junit is not None:
            reports.write(junit, reports.junit_xml(results))
        if report is not None:
            reports.write_json(report, data)
        if markdown is not None:
            reports.write(markdown, reports.markdown(results))
    except OSError as exc:
        raise UsageError(f"cannot write a report: {exc.filename}: {exc.strerror}") from None
    return data


def scenario_test(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders of them.")],
    junit: Annotated[Path | None, Option("--junit", help="Write JUnit XML here.")] = None,
    report: Annotated[Path | None, Option("--report", help="Write the JSON report here.")] = None,
    markdown: Annotated[Path | None, Option("--markdown", help="Write a Markdown summary here.")] = None,
    record: Annotated[Path | None, Option("--record", help="Keep failed conversations (WAV + result) here.")
                      ] = None,
    json_out: Annotated[bool, Option("--json", help="Print the JSON report on stdout.")] = False,
    jobs: Annotated[int, Option("--jobs", "-j", min=1, max=64, help="Scenarios run at once.")] = 1,
    profile: Annotated[str | None, Option("--profile", "-p", help="Profile for every scenario.")] = None,
    url: Annotated[str | None, Option("--url", help="Provider URL for every scenario.")] = None,
    dialect: Annotated[str | None, Option("--dialect", "-d", help="Dialect for every scenario.")] = None,
    agent: Annotated[str | None, Option("--agent", help="Agent id for every scenario.")] = None,
    allow_insecure: Annotated[bool, Option("--allow-insecure", help="Allow ws:// to non-loopback hosts.")] = False,
    config: Annotated[str | None, Option("--config", help="Config file path.")] = None,
) -> int:
    """Run scenario files (conversations with expectations) and report like a test suite."""
    setup_logging()
    started = time.time()
    try:
        overrides = {"profile": profile, "url": url, "dialect": dialect, "agent": agent}
        files = [load(path) for path in expand(paths)]
        planned = [(file, target_for(file, overrides, config), steps_for(file)) for file in files]
        results = asyncio.run(_run_all(planned, allow_insecure=allow_insecure, record=record,
                                       progress=not json_out, jobs=jobs))
        data = _write_reports(results, started, junit, report, markdown)
    except VoicecliError as exc:
        print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    if json_out:
        print_json(data)
    else:
        summary = data["summary"]
        print(f"{summary['passed']}/{summary['scenarios']} scenarios passed", flush=True)
    for result in results:
        for warning in result.warnings:
            print_notice(f"warning: {result.name}: {warning}")
    return int(data["exit_code"])


def replay(
    recording: Annotated[Path, typer.Argument(help=f"A recorded conversation (its folder or {RESULT_NAME}).")],
    scenario: Annotated[Path, Option("--scenario", "-s", help="The scenario file to score it against.")],
    junit: Annotated[Path | None, Option("--junit", help="Write JUnit XML here.")] = None,
    json_out: Annotated[bool, Option("--json", help="Print the JSON report on stdout.")] = False,
) -> int:
    """Re-score a recorded conversation against a scenario file, offline."""
    try:
        file = load(scenario)
        path = recording / RESULT_NAME if recording.is_dir() else recording
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            result = ScenarioResult.from_dict(data)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise UsageError(f"{path}: not a recorded conversation ({exc.__class__.__name__})") from None
        result.name, result.file = file.scenario.name, str(file.path)
        score(file.scenario, result)
        results = [result]
        out = _write_reports(results, time.time(), junit, None, None)
    except VoicecliError as exc:
        print_error(str(exc))
        return exc.exit_code
    if json_out:
        print_json(out)
    else:
        _print_result(result)
    return int(out["exit_code"])
