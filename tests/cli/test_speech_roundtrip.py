"""The local agent listens and answers: a sentence synthesized offline is spoken into a
real session through the real client, recognised, and answered by the rules brain."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from tests.cli.conftest import Cli
from voicecli.agent.speech.tts import HibariSynthesizer


def say(text: str, path: Path) -> Path:
    tts = HibariSynthesizer(warm_up=False, seed=1)
    pcm = tts.synthesize(text)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(tts.rate)
        wav.writeframes(pcm)
    return path


@pytest.mark.realtime  # the embedded agent of `voicecli smoke` listens and speaks in real time
def test_spoken_question_is_recognised_and_answered(cli: Cli, tmp_path: Path) -> None:
    question = say("What is seven times eight?", tmp_path / "question.wav")
    out = tmp_path / "reply.wav"
    proc, report = cli.smoke_json("--audio", str(question), "--out", str(out), timeout=90)
    assert proc.returncode == 0, proc.stderr
    turn = report["turns"][0]
    heard = turn["user_transcript"].lower()
    assert "seven times eight" in heard, heard
    answer = turn["agent_transcript"].lower()
    assert "56" in answer or "fifty-six" in answer or "fifty six" in answer, answer
    assert turn["agent_audio_s"] > 0.5
    with wave.open(str(out)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32)
    assert np.sqrt(np.mean(samples**2)) > 300  # the reply is speech, not silence
