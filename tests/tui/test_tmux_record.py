"""``talk --record DIR`` on the PulseAudio bed in a real terminal: the WAV path is shown when
recording starts and again, with the transcript beside it, after the app has left."""

from __future__ import annotations

import re
import shlex
import wave
from pathlib import Path

import pytest

from tests.support.pulse import PulseBed
from tests.support.terminal import open_tmux, short_dir, voicecli_command

pytestmark = [pytest.mark.tmux, pytest.mark.pulse, pytest.mark.slow]


def test_the_recording_is_named_at_start_and_at_exit(pulse_bed: PulseBed, tmp_path: Path) -> None:
    with short_dir() as folder:
        calls = folder / "calls"
        with open_tmux(tmp_path, {"PULSE_SERVER": pulse_bed.server}) as tmux:
            log = tmp_path / "talk.log"  # debug: for a failure's message
            command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--record", str(calls),
                                                              "--log-file", str(log)])
            tmux.send("clear; " + command + "; echo EXIT=$?", "Enter")
            # the default deadline (60 s with the suite's patience) ends before pytest's own
            # 120 s, so a stalled start fails with the screen, the log and the processes
            screen = tmux.wait_for(lambda s: "connected: speak or type" in s, "the app to connect", log=log)
            started = re.search(r"recording to (\S+\.wav)", screen)
            assert started, screen
            wav = Path(started.group(1))
            assert wav.parent == calls and re.fullmatch(r"voicecli-\d{8}-\d{6}\.wav", wav.name)
            tmux.wait_for(lambda s: "or say help." in s, "the greeting", timeout=30)
            tmux.send("/quit")
            tmux.send("Enter")
            screen = tmux.wait_for(lambda s: re.search(r"EXIT=\d", s) is not None, "the app to exit", timeout=15)
        assert "EXIT=0" in screen
        lines = [line.rstrip() for line in screen.splitlines()]
        assert f"recording saved to {wav}" in lines, screen
        transcript = next(line for line in lines if line.startswith("transcript saved to "))
        assert Path(transcript.split(" saved to ", 1)[1]).parent == calls  # beside the recording
        with wave.open(str(wav)) as recorded:
            assert recorded.getnchannels() == 2 and recorded.getnframes() > recorded.getframerate() // 2
