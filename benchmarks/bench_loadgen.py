"""The load generator (``voicecli load``) against ``voicecli serve --no-speech --brain echo``.

A ``voicecli serve`` subprocess on 127.0.0.1 (tone voice, echo brain: the cheapest agent,
so the figures are the generator's); the generator runs in this process, exactly as
``voicecli load`` does: ``SESSIONS`` concurrent real-time duplex sessions (the microphone
streams 20 ms frames the whole time; one spoken turn, synthesized once; the agent's audio
played on a timeline), ramped at ``RAMP`` per second, conversations starting again for
``DURATION`` seconds.

- ``load_sessions_per_core``: sessions held during the steady phase (every slot started, to
  the end of the duration) divided by the cores this process used meanwhile
  (``time.process_time`` over wall time). It stands only together with the lateness goal: a
  generator short of CPU (a loaded machine) sends its frames late, and its CPU then
  understates what real time would cost.
- ``load_lateness_ms_p99``: how late the microphone's frames were handed to the session
  against their 20 ms grid, p99 over every frame of every session.
- ``load_generator_cores``: the generator's CPU in the steady phase, in cores.
- ``load_pass_rate``, ``load_first_audio_ms_p95``, ``load_turn_ms_p95``: the conversations.
- ``load_machine_load1``: the machine's 1-minute load average at the end (the server and
  other processes share the cores: read the figures against it).

``VOICECLI_BENCH_LOAD_SESSIONS`` / ``_DURATION`` change the size (default 200 sessions, 20 s).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

from benchmarks.local_server import local_server

GOALS = {
    "load_sessions_per_core": (">=", 200.0),
    "load_lateness_ms_p99": ("<=", 10.0),
    "load_pass_rate": (">=", 0.99),
}

SESSIONS = int(os.environ.get("VOICECLI_BENCH_LOAD_SESSIONS", "200"))
DURATION = float(os.environ.get("VOICECLI_BENCH_LOAD_DURATION", "20"))
RAMP = 50.0
KEY_ENV = "VOICECLI_BENCH_LOAD_KEY"
SCENARIO = Path(__file__).resolve().parent.parent / "examples" / "load" / "duplex_turn.yaml"


async def _load(base: str, key: str) -> dict[str, float]:
    from voicecli.load.runner import LoadPlan, LoadRun
    from voicecli.protocol.base import Adapter, DialectConfig
    from voicecli.protocol.registry import adapter_class
    from voicecli.scenario.loader import load
    from voicecli.secrets import Secret

    async def adapter() -> Adapter:
        return adapter_class("atoms")(DialectConfig(url=base, agent_id="bench", api_key=Secret(key)))

    run = LoadRun(load(SCENARIO), adapter, LoadPlan(SESSIONS, RAMP, DURATION))
    report = await run.run()
    steady = report["generator_cpu"]["steady"]
    latency = report["latency_ms"]
    return {
        "load_sessions_per_core": float(steady["sessions_per_core"] or 0.0),
        "load_lateness_ms_p99": float(report["frame_lateness_ms"]["p99"] or 0.0),
        "load_generator_cores": float(steady["cores_used"] or 0.0),
        "load_pass_rate": float(report["pass_rate"]),
        "load_first_audio_ms_p95": float(latency["first_audio_ms"]["p95"] or 0.0),
        "load_turn_ms_p95": float(latency["turn_ms"]["p95"] or 0.0),
        "load_machine_load1": os.getloadavg()[0],
    }


def run() -> dict[str, float]:
    key = "sk_bench_" + secrets.token_urlsafe(16)
    env = dict(os.environ, **{KEY_ENV: key})
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    args = ["--no-speech", "--brain", "echo", "--api-key-env", KEY_ENV, "--max-sessions", str(SESSIONS * 2 + 10)]
    with local_server(args, env) as (_server, base):
        return asyncio.run(_load(base, key))

if __name__ == "__main__":
    for name, value in run().items():
        goal = GOALS.get(name)
        print(f"{name:28s} {value:10.3f}" + (f"   goal {goal[0]} {goal[1]:g}" if goal else ""))
