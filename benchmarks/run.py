"""Run every ``benchmarks/bench_*.py`` module, compare with the goals, save ``.bench/latest.json``.

Each module exposes ``run() -> dict[str, float]`` and may declare
``GOALS = {key: ("<=" | ">=" | "==", value)}``; goals below apply on top of those.
Exit status: 0 when every measured figure with a goal meets it, 1 otherwise.

    python -m benchmarks.run              # all modules
    python -m benchmarks.run audio        # only bench_audio.py
    python -m benchmarks.run startup      # only bench_startup.py: --help against a minimal Typer app
"""

from __future__ import annotations

import importlib
import json
import operator
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Goal = tuple[str, float]

GOALS: dict[str, Goal] = {}
"""Goals kept here rather than in a module (a module's own ``GOALS`` win)."""

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}
OUT = Path(".bench/latest.json")


def discover(only: list[str] | None = None) -> list[str]:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only or n in only]
    return names


def meets(value: float, goal: Goal) -> bool:
    op, target = goal
    return _OPS[op](value, target)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    console = Console()
    metrics: dict[str, float] = {}
    goals: dict[str, Goal] = dict(GOALS)
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name in discover(args or None):
        console.print(f"[bold]{name}[/bold] ...")
        t0 = time.monotonic()
        try:
            module: Any = importlib.import_module(f"benchmarks.{name}")
            goals.update(getattr(module, "GOALS", {}))
            metrics.update({k: float(v) for k, v in module.run().items()})
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            errors[name] = f"{type(exc).__name__}: {exc}"
            console.print(f"[red]{name} failed:[/red] {errors[name]}")
            traceback.print_exc()
        timings[name] = round(time.monotonic() - t0, 2)

    table = Table(title="Benchmarks")
    for col, justify in (("key", "left"), ("value", "right"), ("goal", "right"), ("", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    passed: dict[str, bool] = {}
    for key in sorted(metrics):
        value = metrics[key]
        goal = goals.get(key)
        if goal is None:
            table.add_row(key, f"{value:.3f}", "", "")
            continue
        ok = meets(value, goal)
        passed[key] = ok
        table.add_row(key, f"{value:.3f}", f"{goal[0]} {goal[1]:g}", "[green]pass[/green]" if ok else "[red]FAIL[/red]")
    for key, goal in sorted(goals.items()):
        if key not in metrics:
            table.add_row(key, "-", f"{goal[0]} {goal[1]:g}", "[yellow]not measured[/yellow]")
    console.print(table)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": metrics,
        "goals": {k: list(v) for k, v in goals.items()},
        "passed": passed,
        "errors": errors,
        "seconds": timings,
    }
    OUT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    console.print(f"wrote {OUT}")
    failed = [k for k, ok in passed.items() if not ok]
    if failed or errors:
        console.print(f"[red]{len(failed)} goal(s) missed, {len(errors)} benchmark(s) failed[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
