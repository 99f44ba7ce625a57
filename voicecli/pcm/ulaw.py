"""G.711 µ-law ⇄ PCM16 (little-endian, mono): the 14-bit reference algorithm of the ITU
sample code (``linear2ulaw``/``ulaw2linear``), table-based and vectorised with numpy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 8000  # G.711's own sample rate, used where a headerless µ-law stream names none

_BIAS = 0x84
_CLIP14 = 8159
_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


def _decode_table() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    table: npt.NDArray[np.int16] = np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)
    return table


_DECODE = _decode_table()


def decode(data: bytes) -> bytes:
    """µ-law bytes → PCM16 little-endian (two bytes per input byte)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    out: bytes = _DECODE[codes].astype("<i2").tobytes()
    return out


def encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → µ-law bytes, one per sample (a trailing odd byte is ignored)."""
    usable = len(pcm) - len(pcm) % 2
    x = np.frombuffer(pcm[:usable], dtype="<i2").astype(np.int32) >> 2
    negative = x < 0
    mag = np.minimum(np.where(negative, -x, x), _CLIP14) + (_BIAS >> 2)
    seg = np.searchsorted(_SEG_END, mag, side="left")  # the first segment whose end >= mag
    low = np.minimum(seg, 7)
    uval = np.where(seg >= 8, 0x7F, (low << 4) | ((mag >> (low + 1)) & 0x0F))
    codes = np.where(negative, uval ^ 0x7F, uval ^ 0xFF)
    out: bytes = codes.astype(np.uint8).tobytes()
    return out
