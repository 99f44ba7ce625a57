"""float ⇄ PCM16: one scale (32768), round half to even, clip without wrapping."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from voicecli.pcm.convert import float_to_int16, float_to_pcm16, pcm16_to_float


def test_known_values() -> None:
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 1 / 65536, 3 / 65536], dtype=np.float64)
    assert float_to_int16(x).tolist() == [0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 2]
    assert pcm16_to_float(np.array([-32768, 16384], dtype=np.int16)).tolist() == [-1.0, 0.5]
    assert pcm16_to_float(b"\x00\x40").dtype == np.float32


@given(st.binary(max_size=400).map(lambda b: b[: len(b) - len(b) % 2]))
def test_every_pcm16_sample_survives_a_float_round_trip(pcm: bytes) -> None:
    assert float_to_pcm16(pcm16_to_float(pcm)) == pcm


@given(arrays(np.float64, st.integers(0, 64), elements=st.floats(-4.0, 4.0)))
def test_float_to_pcm16_rounds_to_nearest_and_clips(x: np.ndarray) -> None:
    ints = np.frombuffer(float_to_pcm16(x), dtype="<i2").astype(np.float64)
    inside = np.abs(x) < 0.999
    assert np.all(np.abs(ints[inside] - x[inside] * 32768) <= 0.5)
    assert np.all(ints[x >= 1.0] == 32767) and np.all(ints[x <= -1.0] == -32768)
