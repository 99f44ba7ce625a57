"""G.711 µ-law codec against known values and the reference algorithm."""

from __future__ import annotations

import numpy as np

from voicecli.protocol import ulaw


def test_known_values() -> None:
    decoded = np.frombuffer(ulaw.decode(bytes([0xFF, 0x7F, 0x00, 0x80, 0xF0, 0x70])), "<i2").tolist()
    assert decoded == [0, 0, -32124, 32124, 120, -120]
    assert ulaw.encode(np.array([0, -1, 32767, -32768], "<i2").tobytes()) == bytes([0xFF, 0x7E, 0x80, 0x00])


def test_decode_then_encode_is_identity_on_codes() -> None:
    codes = bytes(c for c in range(256) if c != 0x7F)  # 0x7F and 0xFF both decode to 0
    assert ulaw.encode(ulaw.decode(codes)) == codes


def test_roundtrip_error_is_small() -> None:
    pcm = (np.sin(np.arange(8000) / 8) * 20000).astype("<i2")
    back = np.frombuffer(ulaw.decode(ulaw.encode(pcm.tobytes())), "<i2").astype(np.int32)
    err = np.abs(back - pcm.astype(np.int32))
    assert err.max() <= np.abs(pcm).max() // 16 + 8  # µ-law keeps ~4 bits of mantissa


def test_monotonic_and_edges() -> None:
    ramp = np.arange(-32768, 32768, 16, dtype=np.int32).astype("<i2")
    back = np.frombuffer(ulaw.decode(ulaw.encode(ramp.tobytes())), "<i2")
    assert np.all(np.diff(back.astype(np.int32)) >= 0)
    assert ulaw.encode(b"") == b"" and ulaw.decode(b"") == b"" and ulaw.encode(b"\x01") == b""
