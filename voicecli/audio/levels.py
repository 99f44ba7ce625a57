"""Signal levels of PCM16 audio."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

SILENCE_DB = -100.0


def rms_db(pcm: bytes) -> float:
    """RMS level of PCM16 audio in dBFS (-100 for digital silence)."""
    if len(pcm) < 2:
        return SILENCE_DB
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32)
    rms = float(np.sqrt(np.mean(samples * samples))) / 32768.0
    return 20 * math.log10(rms) if rms > 1e-5 else SILENCE_DB


def float_rms_db(samples: npt.NDArray[np.floating]) -> float:
    """RMS level of float samples (full scale 1.0) in dBFS (-100 for silence)."""
    if samples.size == 0:
        return SILENCE_DB
    mean_square = float(np.dot(samples, samples)) / samples.size
    return 10 * math.log10(mean_square) if mean_square > 1e-10 else SILENCE_DB
