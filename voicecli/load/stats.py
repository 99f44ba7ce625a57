"""Figures of a load run: every conversation's outcome and latencies, frame lateness, and
the generator's own CPU; percentiles and the report (``voicecli load --json``)."""

from __future__ import annotations

import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecli import errors
from voicecli.scenario.results import ScenarioResult

LATENCIES = ("connect_ms", "ready_ms", "first_audio_ms", "turn_ms")
_KINDS = {cls.exit_code: cls.kind for cls in vars(errors).values()
          if isinstance(cls, type) and issubclass(cls, errors.VoicecliError)}


def percentiles(values: Any) -> dict[str, float | None]:
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1), "p99": round(float(p99), 1),
            "max": round(float(data.max()), 1), "n": int(data.size)}


def error_kind(result: ScenarioResult) -> str | None:
    """What failed a conversation: its session's error kind, else its first expectation."""
    if result.ok:
        return None
    if result.error:
        return _KINDS.get(result.exit_code, "error")
    failures = result.all_failures()
    return f"expectation:{failures[0].expectation}" if failures else "error"


@dataclass
class LoadStats:
    started: float = field(default_factory=time.monotonic)
    cpu_started: float = field(default_factory=time.process_time)
    conversations: int = 0
    passed: int = 0
    started_sessions: int = 0
    active: int = 0
    peak_active: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    lateness_ms: array[float] = field(default_factory=lambda: array("d"))
    samples: dict[str, array[float]] = field(default_factory=lambda: {name: array("d") for name in LATENCIES})
    steady: list[tuple[float, float, int]] = field(default_factory=list)  # (wall, cpu, active) marks

    def mark(self) -> None:
        """Mark the start (every session started) and the end of the steady phase."""
        self.steady.append((time.monotonic(), time.process_time(), self.active))

    def begin(self) -> None:
        self.started_sessions += 1
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)

    def end(self, result: ScenarioResult) -> None:
        self.active -= 1
        self.conversations += 1
        kind = error_kind(result)
        if kind is None:
            self.passed += 1
        else:
            self.errors[kind] += 1
        for name, value in (("connect_ms", result.connect_ms), ("ready_ms", result.session_ready_ms)):
            if value is not None:
                self.samples[name].append(value)
        for turn in result.turns:
            if turn.first_audio_ms is not None:
                self.samples["first_audio_ms"].append(turn.first_audio_ms)
            if turn.reply_ms is not None:
                self.samples["turn_ms"].append(turn.reply_ms)

    def snapshot(self) -> dict[str, Any]:
        """The live figures: elapsed, sessions, pass count, lateness p99 so far."""
        late = percentiles(self.lateness_ms[-20000:])
        return {"elapsed_s": round(time.monotonic() - self.started, 1), "active": self.active,
                "started": self.started_sessions, "done": self.conversations, "passed": self.passed,
                "failed": self.conversations - self.passed, "lateness_ms_p99": late["p99"]}

    def report(self, *, sessions: int, ramp: float, duration: float) -> dict[str, Any]:
        wall = max(1e-9, time.monotonic() - self.started)
        cpu = time.process_time() - self.cpu_started
        cores = cpu / wall
        steady: dict[str, Any] = {"wall_s": None, "cores_used": None, "sessions": None, "sessions_per_core": None}
        if len(self.steady) >= 2 and self.steady[1][0] > self.steady[0][0]:
            (w0, c0, _), (w1, c1, _) = self.steady[0], self.steady[1]
            steady_cores = (c1 - c0) / (w1 - w0)
            held = sessions  # every slot holds a session through the steady phase
            steady = {"wall_s": round(w1 - w0, 2), "cores_used": round(steady_cores, 3), "sessions": held,
                      "sessions_per_core": round(held / steady_cores, 1) if steady_cores > 0 else None}
        return {
            "sessions": sessions, "ramp_per_s": ramp, "duration_s": duration,
            "wall_s": round(wall, 2), "conversations": self.conversations, "passed": self.passed,
            "pass_rate": round(self.passed / self.conversations, 4) if self.conversations else 0.0,
            "peak_concurrent": self.peak_active,
            "latency_ms": {name: percentiles(values) for name, values in self.samples.items()},
            "frame_lateness_ms": percentiles(self.lateness_ms),
            "errors": dict(self.errors.most_common()),
            "generator_cpu": {"cpu_s": round(cpu, 2), "cores_used": round(cores, 3), "steady": steady},
        }
