"""G.711 µ-law ⇄ PCM16 (little-endian, mono), table based and pure numpy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_BIAS = 0x84
_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


def _build_decode_table() -> npt.NDArray[np.int16]:
    table = np.zeros(256, dtype=np.int16)
    for byte in range(256):
        u = ~byte & 0xFF
        sign = u & 0x80
        exponent = (u >> 4) & 0x07
        mantissa = u & 0x0F
        magnitude = ((mantissa << 3) + _BIAS) << exponent
        value = magnitude - _BIAS
        table[byte] = -value if sign else value
    return table


_DECODE = _build_decode_table()


def decode(data: bytes) -> bytes:
    """µ-law bytes → PCM16 little-endian (two bytes per input byte)."""
    if not data:
        return b""
    codes = np.frombuffer(data, dtype=np.uint8)
    return _DECODE[codes].astype("<i2").tobytes()


def encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → µ-law bytes (a trailing odd byte is ignored).

    Uses the 14-bit reference algorithm (as in the ITU G.711 sample code)."""
    usable = len(pcm) - len(pcm) % 2
    if usable <= 0:
        return b""
    val = np.frombuffer(pcm[:usable], dtype="<i2").astype(np.int32) >> 2
    mask = np.where(val < 0, 0x7F, 0xFF)
    val = np.minimum(np.abs(val), 8159) + 0x21
    seg = np.searchsorted(_SEG_END, val)  # first segment whose end >= val
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((val >> (seg + 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8).tobytes()
