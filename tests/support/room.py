"""A synthetic room for echo tests: an impulse response and speech-like far-end signals.

``room_impulse_response`` is a direct path after ``delay_ms`` at ``attenuation_db`` and an
exponentially decaying noise tail (the reverberation) of ``tail_ms``. The PulseAudio bed's
room (:meth:`tests.support.pulse.PulseBed.room`) convolves the speaker's monitor with it.
"""

from __future__ import annotations

import numpy as np


def room_impulse_response(rate: int, delay_ms: float, attenuation_db: float = -6.0,
                          tail_ms: float = 120.0, seed: int = 7) -> np.ndarray:
    d = int(round(rate * delay_ms / 1000))
    tail = max(1, int(rate * tail_ms / 1000))
    gain = 10 ** (attenuation_db / 20)
    rng = np.random.default_rng(seed)
    rir = np.zeros(d + tail, np.float32)
    decay = np.exp(-np.arange(tail) / (rate * tail_ms / 1000 / 6))  # -52 dB at the tail's end
    rir[d:] = gain * 0.15 * rng.standard_normal(tail).astype(np.float32) * decay
    rir[d] = gain
    return rir


def speechlike(rate: int, seconds: float, seed: int = 1, amp: float = 0.3) -> np.ndarray:
    """Coloured noise with a syllable-rate envelope (3 Hz), loud enough to trip a VAD."""
    n = int(rate * seconds)
    rng = np.random.default_rng(seed)
    x = np.convolve(rng.standard_normal(n), np.ones(8) / 8, "same")
    env = (0.5 + 0.5 * np.sin(np.arange(n) / rate * 2 * np.pi * 3)) ** 2
    return (amp * x * env / (np.std(x) + 1e-9)).astype(np.float32)
