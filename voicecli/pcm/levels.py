"""Signal levels in dBFS (RMS relative to full scale), with one silence floor.

Levels of consecutive windows (the VAD's 10 ms) come from one pass over a whole block:
``window_levels_db`` for float samples, ``pcm16_window_levels_db`` for PCM16 bytes."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

SILENCE_DB = -100.0  # the level of digital silence, and the lowest level ever reported


def mean_square_db(mean_square: float) -> float:
    """A mean square (full scale 1.0) in dBFS, never below ``SILENCE_DB``."""
    if mean_square <= 0.0:
        return SILENCE_DB
    return max(SILENCE_DB, 10.0 * math.log10(mean_square))


def float_rms_db(samples: npt.NDArray[np.floating]) -> float:
    """RMS level of float samples (full scale 1.0) in dBFS, never below ``SILENCE_DB``."""
    if samples.size == 0:
        return SILENCE_DB
    flat = np.asarray(samples, dtype=np.float64).ravel()
    return mean_square_db(float(np.dot(flat, flat)) / flat.size)


def rms_db(pcm: bytes) -> float:
    """RMS level of PCM16 little-endian audio in dBFS (a trailing odd byte is ignored)."""
    usable = len(pcm) - len(pcm) % 2
    samples = np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64) / 32768.0
    return float_rms_db(samples)


def window_mean_squares(samples: npt.NDArray[np.floating], window: int) -> npt.NDArray[np.float64]:
    """Mean square of each whole ``window`` of float samples (a partial one at the end is
    left out), in one pass."""
    whole = samples.size // window
    if whole == 0:
        return np.zeros(0, dtype=np.float64)
    blocks = np.asarray(samples[: whole * window], dtype=np.float64).reshape(whole, window)
    squares: npt.NDArray[np.float64] = np.einsum("ij,ij->i", blocks, blocks) / window
    return squares


def window_levels_db(samples: npt.NDArray[np.floating], window: int) -> list[float]:
    """``float_rms_db`` of each whole ``window`` of float samples."""
    return [mean_square_db(ms) for ms in window_mean_squares(samples, window).tolist()]


def pcm16_window_levels_db(pcm: bytes, window: int) -> list[float]:
    """``rms_db`` of each whole ``window`` (in samples) of PCM16 little-endian audio, from
    one conversion of the whole block."""
    whole = len(pcm) // (2 * window)
    if whole == 0:
        return []
    ints = np.frombuffer(pcm, dtype="<i2", count=whole * window)
    return window_levels_db(ints.astype(np.float64) / 32768.0, window)
