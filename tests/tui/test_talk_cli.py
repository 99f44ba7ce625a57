"""The talk command's checks that run before any terminal UI starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.inprocess import run_in_process
from voicecli.cli.talk import transcript_file


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``voicecli talk *args`` in this process (the checks before the UI; the tmux tests start
    the real one)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SMALLEST", "VOICECLI"))}
    base.update(env or {})
    return run_in_process(["talk", *args], base, timeout=30)


def test_agent_without_key_names_the_variable(tmp_path: Path) -> None:
    result = run("--agent", "agent-123", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "voicecli: error: no API key: set the environment variable SMALLEST_API_KEY"]


def test_bad_ptt_mode_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--ptt", "sometimes", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "push-to-talk mode must be off, toggle or hold" in result.stderr


def test_the_talk_module_does_not_load_textual() -> None:
    code = "import sys, voicecli.cli.talk; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_transcript_file_honours_xdg_data_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = transcript_file(None, "elevenlabs", now=0)
    assert path.parent == tmp_path / "voicecli" / "transcripts"
    assert path.name.endswith("-elevenlabs.jsonl") and path.name[:8].isdigit()
    assert transcript_file(tmp_path / "mine", "atoms").parent == tmp_path / "mine"


def test_bad_reconnect_values_are_usage_errors(tmp_path: Path) -> None:
    for args, message in ((("--reconnect", "-1"), "the number of tries must be between 0 and 100, got -1"),
                          (("--reconnect-delay", "nan"), "the first wait must be more than 0 and at most 60 s, "
                                                         "got nan"),
                          (("--reconnect-delay", "0"), "the first wait must be more than 0")):
        message = "--reconnect/--reconnect-delay: " + message
        result = run(*args, env={"XDG_CONFIG_HOME": str(tmp_path)})
        assert result.returncode == 2, (args, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"voicecli: error: {message}"), line


def test_reconnect_settings_from_the_options() -> None:
    from voicecli.cli.talk import reconnect_settings

    settings = reconnect_settings(3, 0.25)
    assert settings.hold and not settings.first_connection
    assert settings.backoff.attempts == 3 and settings.backoff.first_s == 0.25
    assert reconnect_settings(0, 1.0).backoff.attempts == 0  # /reconnect only
