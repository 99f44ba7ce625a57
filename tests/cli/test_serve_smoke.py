"""The README's promise: start `voicecli serve`, then `voicecli smoke --dialect D --url
http://127.0.0.1:PORT --agent X` works for every dialect with nothing but the dialect's key
variable set (no profile, no options). `serve` runs as a real process; smoke runs with that
environment and nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, tone_wav

KEY = "sk_local_serve_smoke_T4k9"
# each dialect's default key variable (README, "Providers")
KEY_ENV = {"atoms": "SMALLEST_API_KEY", "elevenlabs": "ELEVENLABS_API_KEY", "perfvoice": "PERFVOICE_API_KEY",
           "token-pcm": "VOICECLI_API_KEY", "voiceagent": "VOICECLI_API_KEY"}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["VOICECLI_LOCAL_KEY"] = KEY
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecli", "serve", "--port", "0", "--api-key-env", "VOICECLI_LOCAL_KEY",
         "--no-speech", "--brain", "echo", "--greeting", ""],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert found, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.realtime  # `voicecli serve` has no pace option: its replies are spoken in real time
@pytest.mark.parametrize("dialect", sorted(KEY_ENV))
def test_smoke_against_serve_with_only_the_key_variable(cli: Cli, served: str, tmp_path: Path,
                                                        dialect: str) -> None:
    env = {k: v for k, v in cli.env.items() if not k.endswith("_API_KEY")}
    env[KEY_ENV[dialect]] = KEY
    clip = tone_wav(tmp_path / "in.wav", rate=16000, channels=1)
    proc, report = Cli(env).smoke_json("--dialect", dialect, "--url", served, "--agent", "agent_x",
                                       "--audio", str(clip), timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert report["ok"] and report["dialect"] == dialect
    (turn,) = report["turns"]
    assert turn["first_audio_ms"] is not None and turn["agent_audio_s"] > 0.3, turn
    assert KEY not in proc.stdout + proc.stderr
