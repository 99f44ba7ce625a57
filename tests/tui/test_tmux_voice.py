"""The whole product as a person meets it: the real `voicecli talk` in a terminal, the
embedded local agent, real PortAudio streams on the PulseAudio test bed. A spoken question
goes into the (virtual) microphone; the answer appears on screen and comes out of the
(virtual) speaker."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.pulse import PulseBed, voiced_seconds
from tests.support.terminal import Tmux, open_tmux, voicecli_command
from tests.support.waiting import patience
from voicecli.agent.speech.tts import HibariSynthesizer
from voicecli.audio.wav import read_wav

pytestmark = [pytest.mark.tmux, pytest.mark.pulse, pytest.mark.slow]


def test_spoken_conversation_in_a_real_terminal(pulse_bed: PulseBed, tmp_path: Path) -> None:
    assert pulse_bed.mic is not None
    tts = HibariSynthesizer(warm_up=False, seed=1)
    question = np.frombuffer(tts.synthesize("What is seven times eight?"), dtype="<i2")
    with open_tmux(tmp_path, {"PULSE_SERVER": pulse_bed.server}) as tmux:
        calls = tmp_path / "calls"  # the session's recording: what the mic sent, for a failure's message
        log = tmp_path / "talk.log"  # debug: the echo gate says what it held back
        command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--record", str(calls),
                                                          "--log-file", str(log)])
        tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
        screen = tmux.wait_for(lambda s: "connected: speak or type" in s, "the app to connect", log=log)
        assert "text only" not in screen and "no mic" not in screen, screen
        with pulse_bed.monitor(rate=24000) as monitor:
            # the greeting is heard in full before we speak, as a person waits for it: the
            # indicator says the agent listens once the speaker has played all it sent (on a
            # loaded machine seconds of it are still queued when the agent says it stopped
            # talking; a question spoken over them is the echo canceller's double talk, and
            # AEC3, still learning the room at the first reply, suppresses most of it)
            tmux.wait_for(lambda s: "or say help." in s and "agent talking" not in s, "the greeting's end",
                          timeout=30)
            monitor.wait_quiet(0.5, timeout=patience(10))
            asked_at = time.monotonic()
            pulse_bed.mic.play(question, tts.rate)
            try:
                screen = tmux.wait_for(lambda s: "is 56." in s, "the spoken answer", timeout=20)
            except AssertionError as exc:
                asked = time.strftime("%H:%M:%S", time.localtime(time.time() - time.monotonic() + asked_at))
                heard_from = f"{streams_on(pulse_bed)}; {pulse_bed.mic.state()}; asked at {asked}"  # app still runs
                raise AssertionError(f"{exc}\n{heard_from}\n{what_was_sent(tmux, calls, question, tts.rate)}\n"
                                     f"{gate_lines(log)}") from None
            tmux.wait_for(lambda s: "agent talking" not in s, "the answer to finish", timeout=15)
        played = monitor.samples(since=asked_at)
        assert "seven times eight" in screen.lower(), screen  # the user's words, recognised
        # the speaker really played the answer: a few hundred ms of voice at a speech level
        loud = np.abs(played) > 0.05
        assert loud.sum() / 24000 > 0.3, f"only {loud.sum() / 24000:.2f} s of audible output"
        tmux.send("/quit")
        tmux.send("Enter")
        screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
        assert "EXIT=0" in screen and "Traceback" not in screen


def streams_on(bed: PulseBed) -> str:
    """Which of the bed's sources the recording streams read (the app's mic should be ``mic``)."""
    try:
        sources = {row[0]: row[1] for row in bed.listed("sources")}
        reading = [sources.get(row[1], row[1]) for row in bed.listed("source-outputs")]
    except Exception as exc:  # noqa: BLE001 - a failure's message: say what could not be read
        return f"(the bed's streams could not be listed: {exc})"
    return f"the bed's recording streams read from: {', '.join(reading) or 'nothing'}"


def what_was_sent(tmux: Tmux, calls: Path, question: np.ndarray, rate: int) -> str:
    """After a question went unanswered: the app leaves, and its recording says how much of the
    question the microphone sent (none: the mic or the echo gate held it back; all of it: the
    agent did not hear or understand it)."""
    tmux.send("/quit")
    tmux.send("Enter")
    try:
        tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
    except AssertionError:
        return "(the app did not exit: no recording)"
    wavs = sorted(calls.glob("*.wav"))
    if not wavs:
        return "(no recording)"
    data, got = read_wav(wavs[-1])
    return (f"the recording's mic side: {voiced_seconds(data[:, 0], got):.2f} voiced seconds sent, "
            f"of {voiced_seconds(question.astype(np.float32) / 32768, rate):.2f} in the question")



def gate_lines(log: Path) -> str:
    """The app's log on the agent's turns and the echo gate (each run of loud blocks it held
    back); the whole log, with the echo canceller's timing each second, is at ``log``."""
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines()
                 if "echo gate" in line or "talking" in line]
    except OSError as exc:
        return f"(no log: {exc})"
    return f"the app's log ({log}), last lines on turns and the echo gate:\n" + "\n".join(lines[-16:])
