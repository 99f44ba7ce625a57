"""Float ⇄ PCM16 sample conversion with one scale and one rounding rule.

Full scale is 32768: an int16 sample ``n`` is the float ``n / 32768`` (so in [-1, 1)), and
a float ``x`` is ``round(x * 32768)`` (half to even), clipped to the int16 range, so every
PCM16 sample survives a round trip through float exactly and overs never wrap around.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
Int16Array = npt.NDArray[np.int16]

SCALE = 32768.0


def pcm16_to_float(pcm: bytes | bytearray | memoryview | Int16Array) -> FloatArray:
    """PCM16 little-endian (bytes or an int16 array) to float32 in [-1, 1)."""
    if isinstance(pcm, (bytes, bytearray, memoryview)):
        ints = np.frombuffer(pcm, dtype="<i2")
    else:
        ints = pcm
    return (ints.astype(np.float32) / np.float32(SCALE)).astype(np.float32, copy=False)


def float_to_int16(samples: npt.NDArray[np.floating]) -> Int16Array:
    """Float samples to int16, rounded to nearest and clipped (no wrap-around on overs)."""
    arr = np.asarray(samples)
    if arr.dtype != np.float32:  # float32 scales exactly (a power of two): same result, less work
        arr = arr.astype(np.float64)
    scaled = np.clip(np.rint(arr * arr.dtype.type(SCALE)), -32768, 32767)
    out: Int16Array = scaled.astype(np.int16)
    return out


def float_to_pcm16(samples: npt.NDArray[np.floating]) -> bytes:
    """Float samples to PCM16 little-endian bytes (interleaved if 2-D)."""
    return float_to_int16(samples).astype("<i2", copy=False).tobytes()
