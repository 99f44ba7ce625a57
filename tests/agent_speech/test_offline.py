"""The local agent's speech stays on this machine: onnxruntime (under hibari) writes a device
id and a telemetry store under the user's cache folder, and sends usage events, unless it is
told not to before it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SPEAK = """
from voicecli.agent.speech.tts import HibariSynthesizer
print(len(HibariSynthesizer(warm_up=False, seed=1).synthesize("Hello there.")))
"""


def _synthesize_in_a_fresh_process(home: Path, **env: str) -> list[Path]:
    """Runs the synthesizer with ``home`` as the user's home and cache; returns what it left there."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "ORT_DISABLE_TELEMETRY")}
    clean.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"), **env)
    proc = subprocess.run([sys.executable, "-c", SPEAK], env=clean, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 10_000  # it spoke
    return sorted(home.rglob("*"))


def test_speech_synthesis_leaves_no_telemetry_id_or_store(tmp_path: Path) -> None:
    assert _synthesize_in_a_fresh_process(tmp_path) == []


def test_a_user_who_opts_in_to_the_runtime_telemetry_keeps_that_choice(tmp_path: Path) -> None:
    left = _synthesize_in_a_fresh_process(tmp_path, ORT_DISABLE_TELEMETRY="0")
    assert any(path.name == "deviceid" for path in left), left  # what the opt-out prevents
