"""Copy and NO_COLOR in a real terminal (tmux): what the app writes, read raw from the pane."""

from __future__ import annotations

import base64
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.terminal import Tmux, open_tmux, voicecli_command

pytestmark = pytest.mark.tmux

OSC52 = re.compile(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)")
COLOUR = re.compile(rb"\x1b\[[0-9;]*(?:[34]8;[25];|(?<=[\[;])(?:3[0-7]|4[0-7]|9[0-7]|10[0-7])(?=[;m]))[0-9;]*m")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with open_tmux(tmp_path) as term:
        yield term


def _talk(tmux: Tmux, raw: Path, env: str = "") -> None:
    tmux.run("pipe-pane", "-o", "-t", "talk", f"cat >> {shlex.quote(str(raw))}")
    command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--no-audio"])
    tmux.send(f"clear; {env}{command}; echo EXIT=$?", "Enter")
    tmux.wait_for(lambda s: "connected: type a message" in s, "the app to connect", timeout=30)


def _wait_copies(raw: Path, count: int, timeout: float = 30.0) -> list[str]:
    """The texts copied so far (OSC 52 in the pane's raw output), once there are ``count``."""
    end = time.monotonic() + timeout
    while True:
        copied = [base64.b64decode(m).decode() for m in OSC52.findall(raw.read_bytes())]
        if len(copied) >= count or time.monotonic() > end:
            assert len(copied) == count, copied
            return copied
        time.sleep(0.05)


def _quit(tmux: Tmux) -> None:
    tmux.send("C-q")
    tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)


def test_copy_sends_the_reply_to_the_terminal_clipboard(tmux: Tmux, tmp_path: Path) -> None:
    raw = tmp_path / "pane.raw"
    _talk(tmux, raw)
    tmux.send("what is 12 plus 7", "Enter")
    tmux.wait_for(lambda s: "12 plus 7 is 19." in s, "the agent's reply", timeout=30)
    tmux.send("/copy", "Enter")
    tmux.wait_for(lambda s: "copied the last reply" in s, "the copy notice", timeout=30)
    _wait_copies(raw, 1)
    tmux.send("F5")  # no selection: the copy key copies the last reply too
    _wait_copies(raw, 2)
    tmux.send("/copy all", "Enter")
    tmux.wait_for(lambda s: "copied the conversation" in s, "the copy-all notice", timeout=30)
    copied = _wait_copies(raw, 3)
    _quit(tmux)
    assert copied[:2] == ["12 plus 7 is 19."] * 2, copied
    assert copied[2].splitlines()[-2:] == ["You: what is 12 plus 7", "Agent: 12 plus 7 is 19."], copied
    assert copied[2].startswith("Agent: Hello!")  # the greeting


def test_no_color_writes_no_colour_codes(tmux: Tmux, tmp_path: Path) -> None:
    raw = tmp_path / "pane.raw"
    _talk(tmux, raw, env="NO_COLOR=1 ")
    tmux.send("hello", "Enter")
    tmux.wait_for(lambda s: "You (typed)  hello" in s, "the typed turn")
    _quit(tmux)
    output = raw.read_bytes()
    assert b"\x1b[" in output and b"connected" in output  # the app drew through the pipe
    found = sorted({m.decode() for m in COLOUR.findall(output)})
    assert not found, f"colour codes under NO_COLOR: {found[:10]}"
