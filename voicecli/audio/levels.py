"""Signal levels of PCM16 audio."""

from __future__ import annotations

import math

import numpy as np

SILENCE_DB = -100.0


def rms_db(pcm: bytes) -> float:
    """RMS level of PCM16 audio in dBFS (-100 for digital silence)."""
    if len(pcm) < 2:
        return SILENCE_DB
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32)
    rms = float(np.sqrt(np.mean(samples * samples))) / 32768.0
    return 20 * math.log10(rms) if rms > 1e-5 else SILENCE_DB
