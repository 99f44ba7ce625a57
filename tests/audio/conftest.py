"""Fixtures for the audio engine's tests: synthetic signals and the PulseAudio test bed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from tests.support.pulse import PulseBed, PulseBedError


@pytest.fixture(scope="session")
def pulse_bed() -> Iterator[PulseBed]:
    """A private PulseAudio server (virtual mic and speaker) for the whole test session.
    Missing or broken, it fails the tests that need it: it never skips them."""
    bed = PulseBed()
    try:
        bed.start()
    except PulseBedError as exc:
        where = "in CI" if os.environ.get("CI") else "on this machine"
        pytest.fail(f"audio test bed unavailable {where}: {exc}", pytrace=False)
    try:
        yield bed
    finally:
        bed.stop()


def tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.rint(samples * 32768), -32768, 32767).astype("<i2").tobytes()


def peak_hz(samples: np.ndarray, rate: int) -> float:
    x = np.asarray(samples, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate / x.size)


def from_pcm(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
