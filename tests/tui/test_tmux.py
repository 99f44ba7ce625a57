"""The real ``voicecli talk`` in a real terminal (tmux), against the embedded local agent."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

PROMPT = "READY>"


def voicecli_command() -> list[str]:
    script = Path(sys.executable).parent / "voicecli"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "voicecli"]


class Tmux:
    def __init__(self, socket: str, session: str) -> None:
        self.socket, self.session = socket, session

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-t", self.session)  # -J: wrapped lines joined

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(0.1)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    socket = f"voicecli-test-{os.getpid()}-{time.monotonic_ns()}"
    term = Tmux(socket, "talk")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TMUX")}
    env["TERM"] = "xterm-256color"
    subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "talk",
                    "-x", "120", "-y", "40", "bash --norc --noprofile"],
                   check=True, env=env, timeout=10)
    try:
        term.send(f"export PS1='{PROMPT} ' XDG_DATA_HOME={shlex.quote(str(tmp_path / 'data'))} "
                  f"XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'config'))}; unset NO_COLOR", "Enter")
        term.wait_for(lambda s: PROMPT in s, "the shell prompt", timeout=10)
        yield term
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def test_talk_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--no-audio"])
    tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
    screen = tmux.wait_for(lambda s: "connected: speak or type" in s, "the app to connect")
    assert tmux.run("display-message", "-p", "-t", "talk", "#{alternate_on}").strip() == "1"
    assert "local agent, offline" in screen and "PTT off" in screen and "live" in screen
    tmux.send("what is 12 plus 7")
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: "12 plus 7 is 19." in s, "the agent's reply")
    assert "You (typed)  what is 12 plus 7" in screen
    tmux.send("/quit")
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
    assert "EXIT=0" in screen
    assert tmux.run("display-message", "-p", "-t", "talk", "#{alternate_on}").strip() == "0"
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines[-1].startswith(PROMPT), "the shell prompt is not back"
    saved = next(line for line in lines if "transcript saved to" in line)
    path = Path(saved.split("transcript saved to", 1)[1].strip())
    assert path.is_relative_to(tmp_path / "data" / "voicecli" / "transcripts")
    assert path.name.endswith("-atoms.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    turns = [r for r in records if r["type"] == "turn"]
    assert any(t["role"] == "user" and t["text"] == "what is 12 plus 7" for t in turns)
    assert any(t["role"] == "agent" and "19" in t["text"] for t in turns)
    assert records[-1]["type"] == "end" and records[-1]["reason"] == "client_requested"


def test_handshake_failure_leaves_the_app_with_one_line_and_its_code(tmux: Tmux) -> None:
    # nothing listens on port 9 of the loopback: connection refused, exit code 6
    command = " ".join(shlex.quote(part) for part in [
        *voicecli_command(), "talk", "--no-audio", "--url", "http://127.0.0.1:9", "--agent", "a1"])
    tmux.send(f"clear; SMALLEST_API_KEY=sk_test_key {command} 2>&1; echo EXIT=$?", "Enter")
    screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=20)
    assert "EXIT=6" in screen
    assert tmux.run("display-message", "-p", "-t", "talk", "#{alternate_on}").strip() == "0"
    errors = [line for line in screen.splitlines() if line.startswith("voicecli: error:")]
    assert errors == ["voicecli: error: connection refused by ws://127.0.0.1:9: is the server running?"]
    assert "transcript saved" not in screen and "Traceback" not in screen
