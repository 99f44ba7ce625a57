"""The local agent under load: memory per speech session and time to the ready message.

A ``voicecli serve`` subprocess (offline speech on, the default brain and greeting) on
127.0.0.1 only. A speech session hears its greeting, then (one in five) asks a spoken
question (hibari's voice, sent faster than real time) and hears the whole answer, and
stays open, idle. One asking session is opened and closed (what a first session loads is
then in the baseline); then one is opened, the baseline RSS read, and 99 more opened,
100 per second.

- ``agent_rss_mb_per_session``: growth of the server's RSS from one to 100 idle speech
  sessions, divided by 99 (the recognizers the sessions shared while they spoke are in it).
- ``agent_ready_ms_p95_100`` (and ``_p50_100``): from the start of each of those 100
  connections to its ``session.created``; the later ones open while the earlier ones are
  greeted (synthesis, paced audio on the wire).
- ``agent_ready_ms_p95_burst100``: the same for 100 connections started at the same
  instant once the others have closed (information only: with the client in this process
  it mostly measures queueing of 100 handshakes on the machine's cores).
- ``agent_sessions_failed_100``: sessions that did not open or greet in time.
- ``agent_new_client_ok``: 1 when ``voicecli smoke`` (a real client, one typed sum) passes
  against the server while the 100 sessions are open, else 0.

Linux only (RSS from ``/proc``). Bounded: 100 sessions, each step with a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.local_server import local_server

GOALS = {
    "agent_rss_mb_per_session": ("<=", 10.0),
    "agent_ready_ms_p95_100": ("<=", 100.0),
    "agent_sessions_failed_100": ("==", 0.0),
    "agent_new_client_ok": ("==", 1.0),
}

SESSIONS = 100
KEY_ENV = "SMALLEST_API_KEY"  # what both the server (--api-key-env) and smoke's Atoms profile read
PATH = "/atoms/v1/agent/connect"
GREETING_TIMEOUT_S = 60.0
SMOKE_TIMEOUT_S = 30.0
RAMP_GAP_S = 0.01  # the 100 sessions arrive 10 ms apart (100 per second)
QUESTION = "What time is it?"
CHUNK = 1280  # 40 ms at 16 kHz
ASK_EVERY = 5  # one session in 5 asks a question (20 spoken questions within the ramp's second)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


async def _session(url: str, key: str, opened: asyncio.Event, stop: asyncio.Event,
                   ready_ms: list[float], failures: list[str], greeted: bool = True,
                   question: bytes = b"") -> None:
    """One Atoms session: time to session.created, wait for the greeting (unless not
    ``greeted``), ask ``question`` (16 kHz PCM) and hear the answer, stay idle until ``stop``."""
    from websockets.asyncio.client import connect

    started = time.monotonic()
    try:
        async with connect(url, additional_headers={"Authorization": f"Bearer {key}"},
                           open_timeout=GREETING_TIMEOUT_S, max_size=None, max_queue=None) as ws:
            async with asyncio.timeout(GREETING_TIMEOUT_S):
                while True:
                    message: Any = json.loads(await ws.recv())
                    if message.get("type") == "session.created":
                        ready_ms.append((time.monotonic() - started) * 1000)
                        if not greeted:
                            break
                    elif message.get("type") == "agent_stop_talking":
                        break
                if question:
                    await _ask(ws, question)
            opened.set()
            await stop.wait()
    except Exception as exc:  # noqa: BLE001 - counted, and the figure says so
        failures.append(f"{type(exc).__name__}: {exc}")
        opened.set()


async def _ask(ws: Any, question: bytes) -> None:
    """Say ``question`` (faster than real time: the VAD counts samples) and hear the whole answer."""
    audio = question + bytes(2 * 16000)  # a second of silence ends the turn
    for offset in range(0, len(audio), CHUNK):
        await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                  "audio": base64.b64encode(audio[offset:offset + CHUNK]).decode()}))
    heard = False
    while True:
        message: Any = json.loads(await ws.recv())
        if message.get("type") == "transcript" and message.get("role") == "user":
            heard = True
        elif message.get("type") == "agent_stop_talking" and heard:
            return


def _question() -> bytes:
    from voicecli.agent.speech.tts import HibariSynthesizer
    from voicecli.audio.resample import resample_pcm16

    synth = HibariSynthesizer(seed=0)
    return resample_pcm16(synth.synthesize(QUESTION), synth.rate, 16000)


async def _smoke(base: str, env: dict[str, str]) -> bool:
    command = [sys.executable, "-m", "voicecli", "smoke", "--url", base.replace("http", "ws", 1) + PATH,
               "--dialect", "atoms", "--agent", "bench", "--text", "what is 12 plus 7", "--expect", "19",
               "--timeout", str(SMOKE_TIMEOUT_S)]
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.DEVNULL)
    try:
        code = await asyncio.wait_for(process.wait(), SMOKE_TIMEOUT_S + 15)
    except TimeoutError:
        process.kill()
        return False
    return code == 0


async def _open(url: str, key: str, questions: list[bytes], gap_s: float, stop: asyncio.Event,
                ready: list[float], failures: list[str], greeted: bool = True) -> list[asyncio.Task[None]]:
    """One session per question (``b""``: none) started ``gap_s`` apart; returns once each
    has heard its greeting and its answer (or failed)."""
    events = [asyncio.Event() for _ in questions]
    tasks = []
    for event, question in zip(events, questions, strict=True):
        tasks.append(asyncio.create_task(_session(url, key, event, stop, ready, failures, greeted, question)))
        if gap_s:
            await asyncio.sleep(gap_s)
    for event in events:
        await event.wait()
    return tasks


async def _load(base: str, key: str, pid: int, env: dict[str, str]) -> dict[str, float]:
    url = base.replace("http", "ws", 1) + PATH + "?agent_id=bench"
    question = _question()
    failures: list[str] = []
    warm = asyncio.Event()
    warm.set()
    # what a first session loads (and the first recognizer) is in the baseline
    await asyncio.gather(*await _open(url, key, [question], 0, warm, [], failures))

    stop = asyncio.Event()
    ready: list[float] = []
    tasks = await _open(url, key, [question], 0, stop, ready, failures)
    await asyncio.sleep(0.5)
    baseline = _rss_mb(pid)
    questions = [question if index % ASK_EVERY == 0 else b"" for index in range(1, SESSIONS)]
    tasks += await _open(url, key, questions, RAMP_GAP_S, stop, ready, failures)
    await asyncio.sleep(0.5)
    loaded = _rss_mb(pid)
    new_client = await _smoke(base, env)
    stop.set()
    await asyncio.gather(*tasks)
    failed = len(failures)
    for reason in sorted(set(failures)):
        print(f"  failed: {reason} ({failures.count(reason)}x)", file=sys.stderr)

    burst: list[float] = []  # all at the same instant: information only
    done = asyncio.Event()
    done.set()
    await asyncio.gather(*await _open(url, key, [b""] * SESSIONS, 0, done, burst, failures, greeted=False))
    return {
        "agent_rss_mb_per_session": max(0.0, loaded - baseline) / (SESSIONS - 1),
        "agent_rss_mb_base": baseline,
        "agent_ready_ms_p95_100": _p(ready, 95),
        "agent_ready_ms_p50_100": _p(ready, 50),
        "agent_ready_ms_p95_burst100": _p(burst, 95),
        "agent_sessions_failed_100": float(failed),
        "agent_new_client_ok": 1.0 if new_client else 0.0,
    }


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("inf")


def run() -> dict[str, float]:
    key = "sk_bench_" + secrets.token_urlsafe(16)
    env = dict(os.environ, **{KEY_ENV: key})
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    args = ["--api-key-env", KEY_ENV, "--max-sessions", str(SESSIONS + 8)]
    with tempfile.TemporaryFile("w+") as log, local_server(args, env, stderr=log) as (server, base):
        return asyncio.run(_load(base, key, server.pid, env))

if __name__ == "__main__":
    for name, value in run().items():
        goal = GOALS.get(name)
        print(f"{name:28s} {value:10.3f}" + (f"   goal {goal[0]} {goal[1]:g}" if goal else ""))
