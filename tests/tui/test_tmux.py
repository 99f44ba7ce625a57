"""The real ``voicecli talk`` in a real terminal (tmux), against the embedded local agent."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.terminal import PROMPT, Tmux, open_tmux, voicecli_command

pytestmark = pytest.mark.tmux


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with open_tmux(tmp_path) as term:
        yield term


def test_talk_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--no-audio"])
    tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
    screen = tmux.wait_for(lambda s: "connected: type a message" in s, "the app to connect")
    assert tmux.run("display-message", "-p", "-t", "talk", "#{alternate_on}").strip() == "1"
    assert "local agent, offline" in screen and "live" in screen
    # text-only: said once, no push-to-talk or mute in the status bar and footer
    assert screen.count("text-only") == 2 and "PTT" not in screen and "mute" not in screen, screen
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


@pytest.mark.parametrize(("dialect", "typed", "expect"), [
    ("elevenlabs", "what is 12 plus 7", "12 plus 7 is 19."),
    ("voiceagent", "what is 12 plus 7", "12 plus 7 is 19."),
    ("token-pcm", "hello", "does not accept typed text"),
])
def test_talk_speaks_every_dialect_with_the_local_agent(tmux: Tmux, dialect: str, typed: str, expect: str) -> None:
    command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--no-audio", "--dialect",
                                                       dialect])
    tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
    tmux.wait_for(lambda s: "connected: type a message" in s, f"the app to connect over {dialect}", timeout=30)
    tmux.send(typed)
    tmux.send("Enter")
    tmux.wait_for(lambda s: expect in s, f"{expect!r} over {dialect}", timeout=30)
    tmux.send("/quit")
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
    assert "EXIT=0" in screen
