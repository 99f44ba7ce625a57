"""Volume and gain: PCM16 scaled by a factor, clipped."""

from __future__ import annotations

import numpy as np

MAX_FACTOR = 4.0


def scale_pcm16(pcm: bytes, factor: float) -> bytes:
    """``pcm`` (PCM16 little-endian) times ``factor``, clipped to the sample range."""
    if factor == 1.0 or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * factor
    out: bytes = np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()
    return out


def percent_factor(text: str) -> float:
    """``/volume 80`` → 0.8: a percentage from 0 to 400. Raises ValueError in words."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(f"expected a percentage (0-{MAX_FACTOR * 100:.0f}), got {text.strip()!r}") from None
    if not 0 <= value <= MAX_FACTOR * 100:
        raise ValueError(f"expected a percentage (0-{MAX_FACTOR * 100:.0f}), got {value:g}")
    return value / 100
