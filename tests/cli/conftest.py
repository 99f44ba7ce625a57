"""Fixtures for CLI tests: a local agent in a thread, and the console command.

``cli.run(...)`` runs the command in the test's process (:mod:`tests.support.inprocess`: its
exit code, stdout and stderr as a child process gives them, without the child's half second
of imports); ``Cli(env, process=True)`` or ``cli.run(..., process=True)`` starts the real
``python -m voicecli`` where the process itself is under test, and ``cli.run(..., ahead=True)``
where a run in real time must not wait behind the suite's other work."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.inprocess import run_in_process
from tests.support.priority import popen_raised
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

TEST_KEY = "sk_test_smoke_Zq81x0"
NO_GREETING = ("--greeting-wait", "0")
"""For smoke against these tests' agents, which have no greeting: turn 1 goes at once
rather than after smoke's wait for one (2 s a run)."""


@dataclass
class Cli:
    env: dict[str, str]
    process: bool = False  # a real child process for every run

    def run(self, *args: str, timeout: float = 60, extra_env: dict[str, str] | None = None,
            process: bool | None = None, ahead: bool = False) -> subprocess.CompletedProcess[str]:
        """``ahead``: the real process, in a session of its own raised above the suite's other
        work (:mod:`tests.support.priority`), for a run in real time whose own local agent
        stands in for a provider's server (which no load on the user's machine slows down)."""
        env = dict(self.env)
        env.update(extra_env or {})
        command = [sys.executable, "-m", "voicecli", *args]
        if ahead:
            with popen_raised(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
                try:
                    out, err = proc.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise
            return subprocess.CompletedProcess(command, proc.returncode, out, err)
        if not (self.process if process is None else process):
            return run_in_process(args, env, timeout)
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)

    def smoke_json(self, *args: str, **kw: Any) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        proc = self.run("smoke", "--json", *args, **kw)
        assert proc.stdout.count("\n") == 1, proc.stdout + proc.stderr
        return proc, json.loads(proc.stdout)


# smoke's scripted microphone and speaker (VOICECLI_SCRIPTED_SPEED) in tests that do not
# measure timing: clips are sent and replies played out this many times faster than real time
SCRIPTED_SPEED = "8"


@pytest.fixture
def cli(tmp_path: Path, request: pytest.FixtureRequest) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "VOICECLI_LOG"}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
                "SMALLEST_API_KEY": TEST_KEY, "NO_COLOR": "1",
                "VOICECLI_SCRIPTED_SPEED": "1" if request.node.get_closest_marker("realtime") else SCRIPTED_SPEED})
    return Cli(env)


def _agent(**options: Any) -> Iterator[str]:
    url, stop = start_in_thread(AgentConfig(api_key=TEST_KEY, agent_ids={"agent_1"}, greeting="",
                                            speech=False, brain="echo", allow_faults=True, **options))
    yield url
    stop()


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    """A local agent with auth, no greeting, the tone voice (fast) and faults allowed; its
    replies on a virtual clock (each one a burst: the same frames and events, no waiting)."""
    yield from _agent(speed=math.inf)


@pytest.fixture(scope="module")
def paced_agent_url() -> Iterator[str]:
    """The same agent speaking in real time, for the tests that measure timing."""
    yield from _agent()


def tone_wav(path: Path, seconds: float = 0.8, rate: int = 44100, channels: int = 2, freq: float = 440.0,
             lead_silence: float = 0.2) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.4 * np.sin(2 * np.pi * freq * t)
    data = np.concatenate([np.zeros(int(lead_silence * rate)), tone])
    pcm = (np.repeat(data[:, None], channels, axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return path
