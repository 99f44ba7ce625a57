"""Signal levels in dBFS (RMS relative to full scale), with one silence floor."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

SILENCE_DB = -100.0  # the level of digital silence, and the lowest level ever reported


def float_rms_db(samples: npt.NDArray[np.floating]) -> float:
    """RMS level of float samples (full scale 1.0) in dBFS, never below ``SILENCE_DB``."""
    if samples.size == 0:
        return SILENCE_DB
    flat = np.asarray(samples, dtype=np.float64).ravel()
    mean_square = float(np.dot(flat, flat)) / flat.size
    if mean_square <= 0.0:
        return SILENCE_DB
    return max(SILENCE_DB, 10.0 * math.log10(mean_square))


def rms_db(pcm: bytes) -> float:
    """RMS level of PCM16 little-endian audio in dBFS (a trailing odd byte is ignored)."""
    usable = len(pcm) - len(pcm) % 2
    samples = np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64) / 32768.0
    return float_rms_db(samples)
