"""The real ``voicecli talk`` in tmux against a real ``voicecli serve`` process that is
killed mid-reply and started again on the same port: the conversation goes on in the same
window, and the saved transcript records the cut reply and the reconnect."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.terminal import Tmux, open_tmux, voicecli_command

pytestmark = pytest.mark.tmux

KEY = "sk_local_reconnect_T8q2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``voicecli serve`` as a process on a fixed port (tone voice, rules brain, no greeting)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env["RECONNECT_TEST_KEY"] = KEY
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voicecli", "serve", "--port", str(self.port), "--api-key-env",
             "RECONNECT_TEST_KEY", "--no-speech", "--brain", "rules", "--greeting", ""],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert f"listening on http://127.0.0.1:{self.port}" in line, line + self._stderr()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # no close frame, no goodbye: as a crash
            self.proc.wait(10)

    def _stderr(self) -> str:
        proc = self.proc
        return proc.stderr.read() if proc is not None and proc.poll() is not None and proc.stderr else ""


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.kill()


def test_server_killed_mid_reply_and_restarted_the_conversation_goes_on(server: Server, tmp_path: Path) -> None:
    with open_tmux(tmp_path) as tmux:
        run_conversation(tmux, server, tmp_path)


def run_conversation(tmux: Tmux, server: Server, tmp_path: Path) -> None:
    # a voice session with no devices (mode webcall): the reply is paced, so the server can
    # be killed mid-reply (--no-audio alone would ask for chat mode: whole replies at once)
    profile = tmp_path / "voice.toml"
    profile.write_text(f'[profiles.voice]\ndialect = "atoms"\nurl = "http://127.0.0.1:{server.port}"\n'
                       'agent = "agent_x"\nmode = "webcall"\n')
    command = " ".join(shlex.quote(part) for part in [
        *voicecli_command(), "talk", "--no-audio", "--config", str(profile), "--profile", "voice",
        "--reconnect", "30", "--reconnect-delay", "0.2"])
    tmux.send(f"clear; SMALLEST_API_KEY={KEY} {command}; echo EXIT=$?", "Enter")
    tmux.wait_for(lambda s: "connected: type a message" in s, "the app to connect")
    tmux.send("help")
    tmux.send("Enter")
    tmux.wait_for(lambda s: "Agent  I can" in s, "the first words of the reply")
    server.kill()
    screen = tmux.wait_for(lambda s: "connection lost" in s, "the lost connection")
    assert "what time is it." not in screen, "the reply had ended before the server was killed"
    tmux.wait_for(lambda s: re.search(r"reconnecting in 0\.\d+ s… attempt \d+/30", s) is not None,
                  "the wait and the attempt")
    server.start()
    screen = tmux.wait_for(lambda s: "voicecli  reconnected" in s, "the reconnect", timeout=30)
    assert "⏹ interrupted" in screen
    tmux.send("what is 12 plus 7")
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: "12 plus 7 is 19." in s, "the reply on the new connection")
    lines = screen.splitlines()
    order = [next(i for i, line in enumerate(lines) if text in line)
             for text in ("You (typed)  help", "voicecli  reconnected", "You (typed)  what is 12 plus 7",
                          "Agent  12 plus 7 is 19.")]
    assert order == sorted(order), screen
    tmux.send("/quit")
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
    assert "EXIT=0" in screen and "Traceback" not in screen
    saved = next(line for line in screen.splitlines() if "transcript saved to" in line)
    path = Path(saved.split("transcript saved to", 1)[1].strip())
    records = [json.loads(line) for line in path.read_text().splitlines()]
    turns = [r for r in records if r["type"] == "turn"]
    cut = [r for r in turns if r["role"] == "agent" and r["text"].startswith("I can")]
    assert cut and all(r["interrupted"] and r["final"] for r in cut), cut
    assert any(r["role"] == "system" and r["text"] == "reconnected" for r in turns)
    assert any(r["role"] == "agent" and r["text"] == "12 plus 7 is 19." and not r["interrupted"] for r in turns)
    assert records[-1]["type"] == "end" and records[-1]["error"] is None
