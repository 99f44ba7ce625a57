"""dBFS levels: known values, one silence floor for PCM16 and float alike."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from voicecli.pcm.convert import float_to_pcm16
from voicecli.pcm.levels import SILENCE_DB, float_rms_db, rms_db


def sine(amp: float, n: int = 16000) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)


def test_known_levels() -> None:
    assert abs(float_rms_db(sine(1.0)) - -3.01) < 0.01  # a full-scale sine is -3 dBFS
    assert abs(rms_db(float_to_pcm16(sine(0.5))) - -9.03) < 0.01
    assert abs(rms_db(float_to_pcm16(np.full(100, 0.1))) - -20.0) < 0.01
    assert rms_db(np.full(10, -32768, dtype="<i2").tobytes()) == 0.0


def test_silence_and_nothing_are_the_floor() -> None:
    assert SILENCE_DB == -100.0
    assert rms_db(b"") == rms_db(b"\x01") == rms_db(bytes(640)) == SILENCE_DB
    assert float_rms_db(np.zeros(0, dtype=np.float32)) == float_rms_db(np.zeros(80)) == SILENCE_DB
    assert float_rms_db(np.full(10, 1e-9)) == SILENCE_DB  # below the floor: clamped to it


@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=200))
def test_pcm16_and_float_levels_agree(values: list[int]) -> None:
    ints = np.array(values, dtype="<i2")
    level = rms_db(ints.tobytes())
    assert SILENCE_DB <= level <= 0.0
    assert math.isclose(level, float_rms_db(ints.astype(np.float64) / 32768.0), abs_tol=1e-9)
    assert rms_db(ints.tobytes() + b"\x07") == level  # a trailing odd byte is ignored
