"""Shared speech fixtures: the models are loaded once per run, test audio is made by hibari."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soxr

from voicecli.agent.speech.stt import PocketSphinxRecognizer
from voicecli.agent.speech.tts import HibariSynthesizer

PHRASE = "Hello there. What is the weather in Paris today?"


@pytest.fixture(scope="session")
def synth() -> HibariSynthesizer:
    return HibariSynthesizer(seed=1)


@pytest.fixture(scope="session")
def recognizer() -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer()


def to_16k(pcm24: bytes) -> bytes:
    samples = np.frombuffer(pcm24, dtype="<i2")
    resampled = soxr.resample(samples, 24000, 16000)
    return np.asarray(resampled, dtype="<i2").tobytes()


@pytest.fixture(scope="session")
def phrase_16k(synth: HibariSynthesizer, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """hibari saying PHRASE, as 16 kHz PCM16 (cached in the session's temporary directory)."""
    cache: Path = tmp_path_factory.getbasetemp() / "phrase_16k.pcm"
    if not cache.exists():
        cache.write_bytes(to_16k(synth.synthesize(PHRASE)))
    return cache.read_bytes()


def frames(pcm: bytes, ms: int = 20, rate: int = 16000) -> list[bytes]:
    size = rate * ms // 1000 * 2
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]
