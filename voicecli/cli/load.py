"""``voicecli load SCENARIO``: many concurrent sessions of one scenario from this process,
a live progress line on stderr, and a final table (or ``--json``) of pass rate, connect,
ready, first-audio and turn latency percentiles, frame send lateness and errors by kind
(engine: :mod:`voicecli.load.runner`). Exit 0 when the pass rate reaches
``--min-pass-rate``, else 9."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from voicecli.cli.common import setup_logging
from voicecli.cli.output import print_error, print_json
from voicecli.cli.scenario import Endpoints, target_for
from voicecli.errors import EXIT_INTERRUPTED, ExpectationFailed, UsageError, VoicecliError
from voicecli.load.runner import LoadPlan, LoadRun
from voicecli.protocol.base import Adapter
from voicecli.scenario.loader import load

Option = typer.Option
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_ramp(text: str) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*", text)
    if not found or float(found.group(1)) <= 0:
        raise UsageError(f"--ramp must be sessions per second, like 10 or 10/s; got {text!r}")
    return float(found.group(1))


def parse_duration(text: str) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not found or float(found.group(1)) <= 0 or float(found.group(1)) * _UNITS[found.group(2)] > 7 * 86400:
        raise UsageError(f"--duration must be a time like 30, 30s, 5m or 1h; got {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _progress(snapshot: dict[str, Any]) -> None:
    late = snapshot["lateness_ms_p99"]
    line = (f"{snapshot['elapsed_s']:>6.1f} s  active {snapshot['active']:>4}  started {snapshot['started']:>5}  "
            f"passed {snapshot['passed']:>5}  failed {snapshot['failed']:>4}  "
            f"lateness p99 {'-' if late is None else f'{late:g} ms'}")
    end = "\r" if sys.stderr.isatty() else "\n"
    print(line, end=end, file=sys.stderr, flush=True)


def render(report: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    rows = [f"sessions {report['sessions']} (peak {report['peak_concurrent']}), ramp {report['ramp_per_s']:g}/s, "
            f"duration {report['duration_s']:g} s, wall {report['wall_s']:g} s",
            f"conversations {report['conversations']}, passed {report['passed']} "
            f"(pass rate {report['pass_rate'] * 100:.1f}%)", "",
            f"{'figure':<20} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9} {'n':>7}"]
    figures = dict(report["latency_ms"], frame_lateness_ms=report["frame_lateness_ms"])
    for name, p in figures.items():
        rows.append(f"{name:<20} {ms(p['p50']):>9} {ms(p['p95']):>9} {ms(p['p99']):>9} {ms(p['max']):>9} {p['n']:>7}")
    cpu = report["generator_cpu"]
    steady = cpu["steady"]
    rows += ["", f"generator CPU {cpu['cpu_s']:g} s ({cpu['cores_used']:g} cores on average)"
             + (f"; steady phase: {steady['sessions']} sessions on {steady['cores_used']:g} cores = "
                f"{ms(steady['sessions_per_core'])} sessions per core" if steady["cores_used"] is not None else "")]
    if report["errors"]:
        rows += ["", "errors: " + ", ".join(f"{kind} {count}" for kind, count in report["errors"].items())]
    return "\n".join(rows)


def load_command(
    scenario: Annotated[Path, typer.Argument(help="The scenario every session runs.")],
    sessions: Annotated[int, Option("--sessions", "-n", min=1, max=100_000, help="Sessions at once.")] = 10,
    ramp: Annotated[str, Option("--ramp", help="Session starts per second (10 or 10/s).")] = "10/s",
    duration: Annotated[str, Option("--duration", help="How long conversations keep starting (30s, 5m).")] = "30s",
    min_pass_rate: Annotated[float, Option("--min-pass-rate", min=0.0, max=1.0,
                                           help="Exit 9 below this share of passed conversations.")] = 0.95,
    json_out: Annotated[bool, Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, Option("--quiet", "-q", help="No progress line.")] = False,
    profile: Annotated[str | None, Option("--profile", "-p", help="Profile to load.")] = None,
    url: Annotated[str | None, Option("--url", help="Provider URL to load.")] = None,
    dialect: Annotated[str | None, Option("--dialect", "-d", help="Dialect.")] = None,
    agent: Annotated[str | None, Option("--agent", help="Agent id.")] = None,
    allow_insecure: Annotated[bool, Option("--allow-insecure", help="Allow ws:// to non-loopback hosts.")] = False,
    config: Annotated[str | None, Option("--config", help="Config file path.")] = None,
) -> int:
    """Run many concurrent sessions of a scenario and report latency percentiles."""
    setup_logging()
    try:
        plan = LoadPlan(sessions, parse_ramp(ramp), parse_duration(duration))
        file = load(scenario)
        target = target_for(file, {"profile": profile, "url": url, "dialect": dialect, "agent": agent}, config)
        report = asyncio.run(_run(file, target, plan, allow_insecure, None if quiet or json_out else _progress))
    except VoicecliError as exc:
        print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    if json_out:
        print_json(report)
    else:
        print(render(report))
    return 0 if report["conversations"] and report["pass_rate"] >= min_pass_rate else ExpectationFailed.exit_code


async def _run(file: Any, target: Any, plan: LoadPlan, allow_insecure: bool, progress: Any) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        endpoints = Endpoints(stack)

        async def adapter() -> Adapter:
            async with endpoints.lock:
                return await endpoints.adapter(target)

        run = LoadRun(file, adapter, plan, allow_insecure=allow_insecure)
        report = await run.run(progress)
        if progress is not None and sys.stderr.isatty():
            print(file=sys.stderr)
        return report
