"""How long ``voicecli --help`` and ``voicecli smoke --help`` take, against a minimal Typer app.

Each command runs RUNS times in a fresh interpreter (this one, ``sys.executable``), the three
commands interleaved so a busy machine slows them alike; the figures are medians.

- ``startup_minimal_typer_s``: ``--help`` of a two-command Typer app (the reference: what any
  Typer CLI pays for the interpreter, Typer, Click and Rich).
- ``startup_help_s``, ``startup_smoke_help_s``: ``voicecli --help``, ``voicecli smoke --help``.
- ``startup_help_ratio``, ``startup_smoke_help_ratio``: each over the reference (goal <= 1.5:
  a command's help must not load numpy, websockets, the session or Textual).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"startup_help_ratio": ("<=", 1.5), "startup_smoke_help_ratio": ("<=", 1.5)}
RUNS = 9

MINIMAL_APP = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def count(to: int = 3) -> None:
    """Count."""
    print(*range(to))


app()
'''


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(runs: int = RUNS) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP)
        commands = {
            "startup_minimal_typer_s": [sys.executable, str(minimal), "--help"],
            "startup_help_s": [sys.executable, "-m", "voicecli", "--help"],
            "startup_smoke_help_s": [sys.executable, "-m", "voicecli", "smoke", "--help"],
        }
        for argv in commands.values():  # warm the file cache and the bytecode
            _seconds(argv)
        times: dict[str, list[float]] = {key: [] for key in commands}
        for _ in range(runs):
            for key, argv in commands.items():
                times[key].append(_seconds(argv))
    out = {key: round(statistics.median(values), 3) for key, values in times.items()}
    reference = out["startup_minimal_typer_s"]
    out["startup_help_ratio"] = round(out["startup_help_s"] / reference, 2)
    out["startup_smoke_help_ratio"] = round(out["startup_smoke_help_s"] / reference, 2)
    return out


def run() -> dict[str, float]:
    return measure()


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key:28} {value}")
