"""F4 stops the reply, seen and heard: the real `voicecli talk` in a terminal with the
embedded local agent speaking on the PulseAudio test bed. ``help`` is typed, F4 is pressed
about a second into the spoken answer: after it, the rest of the help sentence never shows
on screen nor comes out of the (virtual) speaker, and the saved transcript keeps the reply
cut where it was heard."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.support.pulse import MonitorRecording, PulseBed
from tests.support.terminal import log_tail, open_tmux, voicecli_command
from tests.support.waiting import patience
from voicecli.agent.brains.rules import HELP

pytestmark = [pytest.mark.tmux, pytest.mark.pulse, pytest.mark.slow]

FULL = " ".join(HELP)
TAIL = "what time is it."  # the end of the help answer: never shown after F4
RATE = 24000


def heard_since(monitor: MonitorRecording, since: float, level: float = 0.05) -> float | None:
    """When the speaker first played something loud after ``since`` (None: not yet)."""
    return next((at for at, samples in list(monitor.chunks) if at > since and np.abs(samples).max() > level), None)


def wait_until(predicate: Callable[[], bool], what: str, timeout: float) -> None:
    end = time.monotonic() + patience(timeout)
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs"])
def test_f4_stops_the_spoken_reply(pulse_bed: PulseBed, tmp_path: Path, dialect: str) -> None:
    with open_tmux(tmp_path, {"PULSE_SERVER": pulse_bed.server}) as tmux, pulse_bed.monitor(rate=RATE) as monitor:
        log = tmp_path / "talk.log"  # debug: for a failure's message
        command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--dialect", dialect,
                                                          "--log-file", str(log)])
        tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
        tmux.wait_for(lambda s: "connected: speak or type" in s, "the app to connect", log=log)
        # the greeting is heard to its end: the app says the agent stopped talking (a starved
        # machine may pause the audio mid-greeting), then the speaker is quiet for a second
        wait_until(lambda: heard_since(monitor, 0.0) is not None, "the greeting", 30)
        tmux.wait_for(lambda s: "or say help." in s and "agent talking" not in s, "the greeting's end", timeout=30)
        wait_until(lambda: heard_since(monitor, time.monotonic() - 1.0) is None, "the greeting to end", 30)
        asked = time.monotonic()
        tmux.send("help", "Enter")
        wait_until(lambda: heard_since(monitor, asked) is not None, "the spoken reply", 15)
        time.sleep(1.0)  # the user listens for about a second, then cuts the reply
        tmux.send("F4")
        cut_at = time.monotonic()
        tmux.wait_for(lambda s: "interrupted" in s, "the cut reply", timeout=5)
        shown_at = time.monotonic()  # the app has taken the key (a loaded machine is late to)
        time.sleep(0.3)  # the screen catches up with the cut (ElevenLabs sends the text first)
        # the whole help answer takes several seconds to say: watch that long
        while time.monotonic() < cut_at + 6:
            screen = tmux.screen()
            assert TAIL not in screen, screen
            time.sleep(0.1)
        # what the speaker played from a moment after the key on, or after the app showed the
        # cut where it took the key later than that: the monitor's chunks are stamped when
        # this process reads them, later than played on a loaded machine
        settled = max(cut_at + patience(0.3), shown_at + 0.2)
        after = [samples for at, samples in monitor.chunks if at > settled]
        before = [samples for at, samples in monitor.chunks if at < cut_at]
        assert before and np.abs(np.concatenate(before)).max() > 0.05, "the reply was never heard"
        if after:
            loud = np.abs(np.concatenate(after)) > 0.02
            assert loud.sum() / RATE < 0.05, f"{loud.sum() / RATE:.2f} s of the reply played after F4"
        tmux.send("/quit")
        tmux.send("Enter")
        screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
        assert "EXIT=0" in screen and "Traceback" not in screen
    logs = list((tmp_path / "data").rglob("*.jsonl"))
    assert len(logs) == 1, logs
    records = [json.loads(line) for line in logs[0].read_text().splitlines()]
    last = {r["index"]: r for r in records if r.get("type") == "turn"}  # a turn's last record wins
    agent = [r for r in last.values() if r["role"] == "agent"]
    cut = [r for r in agent if r.get("interrupted")]
    assert len(cut) == 1, f"{agent}{log_tail(log)}"
    heard = cut[0]["text"].replace("⏹", "").replace("interrupted", "").strip()
    # cut where it was heard: about a second of speech, the start of the help answer
    assert heard and FULL.startswith(heard.rstrip(".… ")), heard
    assert len(heard.split()) <= 8, heard
    assert not any(TAIL in r["text"] for r in agent), agent
