"""An open microphone beside the speaker, seen and heard: the real `voicecli talk` in a
terminal with the embedded local agent, on the PulseAudio bed's room (the speaker's sound
comes back into the microphone: a laptop in a small room). With echo cancellation (the
default), the agent says its greeting and three long answers to the end while its own voice
returns through the microphone; then the user talks over the fourth, and that one is cut.
With ``--aec off`` the agent takes its own voice for the user's and cuts its first answer."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.pulse import MonitorRecording, PulseBed
from tests.support.room import PLAUSIBLE
from tests.support.terminal import Tmux, open_tmux, voicecli_command
from tests.support.waiting import patience
from voicecli.agent.brains.rules import HELP
from voicecli.agent.speech.tts import HibariSynthesizer

pytestmark = [pytest.mark.tmux, pytest.mark.pulse, pytest.mark.slow]

TAIL = "what time is it."  # the end of the help answer, the agent's longest (~7 s)
RATE = 24000


def wait_until(predicate: Callable[[], bool], what: str, timeout: float) -> None:
    end = time.monotonic() + patience(timeout)
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def heard_since(monitor: MonitorRecording, since: float, level: float = 0.05) -> float | None:
    """When the speaker first played something loud after ``since`` (None: not yet)."""
    return next((at for at, samples in list(monitor.chunks) if at > since and np.abs(samples).max() > level), None)


def agent_turns(data: Path) -> list[dict[str, Any]]:
    logs = list(data.rglob("*.jsonl"))
    assert len(logs) == 1, logs
    records = [json.loads(line) for line in logs[0].read_text().splitlines()]
    last = {r["index"]: r for r in records if r.get("type") == "turn"}  # a turn's last record wins
    return [r for r in sorted(last.values(), key=lambda r: r["index"]) if r["role"] == "agent"]


def said(turn: dict[str, Any]) -> str:
    return str(turn["text"]).replace("⏹", "").replace("interrupted", "").strip()


def start_talk(tmux: Tmux, log: Path, *options: str) -> None:
    """``voicecli talk`` with ``options``, its debug log at ``log`` (shown if it never connects)."""
    command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--log-file", str(log),
                                                      *options])
    tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
    screen = tmux.wait_for(lambda s: "connected: speak or type" in s, "the app to connect", log=log)
    assert "text only" not in screen and "no mic" not in screen, screen


def ask_help(tmux: Tmux, monitor: MonitorRecording) -> float:
    """Types ``help`` once the agent is quiet; returns when its answer is first heard."""
    wait_until(lambda: heard_since(monitor, time.monotonic() - 1.0) is None, "a quiet speaker", 40)
    asked = time.monotonic()
    tmux.send("help", "Enter")
    wait_until(lambda: heard_since(monitor, asked) is not None, "the spoken answer", 15)
    return time.monotonic()


def quit_talk(tmux: Tmux) -> None:
    tmux.send("/quit")
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
    assert "EXIT=0" in screen and "Traceback" not in screen


def test_open_mic_answers_finish_over_their_echo_and_the_user_still_cuts_in(pulse_bed: PulseBed,
                                                                             tmp_path: Path) -> None:
    mic = pulse_bed.mic
    assert mic is not None
    tts = HibariSynthesizer(warm_up=False, seed=1)
    user = np.frombuffer(tts.synthesize("What time is it?"), dtype="<i2")
    room = pulse_bed.room(PLAUSIBLE)
    try:
        with open_tmux(tmp_path, {"PULSE_SERVER": pulse_bed.server}) as tmux, \
                pulse_bed.monitor(rate=RATE) as monitor:
            start_talk(tmux, tmp_path / "talk.log")
            tmux.wait_for(lambda s: "or say help." in s, "the greeting", timeout=30)
            for n in range(1, 4):  # three long answers, the echo coming back all along
                ask_help(tmux, monitor)
                tmux.wait_for(lambda s, n=n: s.count(TAIL) >= n and "agent talking" not in s,
                              f"help answer {n} to its end", timeout=30)
                assert "interrupted" not in tmux.screen(), tmux.screen()
            heard = ask_help(tmux, monitor)
            time.sleep(max(0.0, heard + 1.0 - time.monotonic()))  # a second into the answer
            mic.play(user, tts.rate)
            tmux.wait_for(lambda s: "interrupted" in s, "the user's interruption", timeout=10)
            mic.wait_idle()
            tmux.wait_for(lambda s: "agent talking" not in s, "the agent's answer to the user", timeout=30)
            quit_talk(tmux)
    finally:
        pulse_bed.close_room()
    assert room.chunks > 0, "the room never heard the speaker"
    turns = agent_turns(tmp_path / "data")
    full = " ".join(HELP)
    helps = [t for t in turns if said(t) and full.startswith(said(t).rstrip(".… "))]
    assert [bool(t.get("interrupted")) for t in helps] == [False, False, False, True], turns
    assert not turns[0].get("interrupted"), turns  # the greeting too was said to its end


def test_without_echo_cancellation_the_agent_cuts_its_own_answer(pulse_bed: PulseBed, tmp_path: Path) -> None:
    pulse_bed.room(PLAUSIBLE)
    try:
        with open_tmux(tmp_path, {"PULSE_SERVER": pulse_bed.server}) as tmux, \
                pulse_bed.monitor(rate=RATE) as monitor:
            start_talk(tmux, tmp_path / "talk.log", "--aec", "off")
            wait_until(lambda: heard_since(monitor, 0.0) is not None, "the greeting", 30)
            tmux.wait_for(lambda s: "interrupted" in s, "the agent hearing itself", timeout=20)
            quit_talk(tmux)
    finally:
        pulse_bed.close_room()
    turns = agent_turns(tmp_path / "data")
    assert turns and any(t.get("interrupted") for t in turns), turns
