"""One level measurement per block: the VAD judges 10 ms windows whose levels come from one
pass over a frame (PCM16 on the agent's side, the capture's float samples on the client's)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.audio.conftest import tone
from voicecli.audio.capture import DeviceCapture
from voicecli.audio.framer import Frame
from voicecli.audio.vad import EnergyVad
from voicecli.pcm.convert import float_to_pcm16
from voicecli.pcm.levels import SILENCE_DB, pcm16_window_levels_db, rms_db, window_levels_db


@given(st.lists(st.integers(-32768, 32767), min_size=0, max_size=800), st.integers(1, 200))
def test_window_levels_are_each_windows_own_level(values: list[int], window: int) -> None:
    pcm = np.array(values, dtype="<i2").tobytes()
    levels = pcm16_window_levels_db(pcm + b"\x01", window)  # a trailing odd byte is ignored
    assert len(levels) == len(values) // window
    for i, level in enumerate(levels):
        assert math.isclose(level, rms_db(pcm[2 * i * window : 2 * (i + 1) * window]), abs_tol=1e-9)


def _speech_like(rate: int = 16000) -> np.ndarray:
    """Silence, a click too short to be speech, two bursts of tone with a pause between."""
    parts = [np.zeros(rate // 2), tone(800, rate, 0.03, 0.3), np.zeros(rate // 4),
             tone(300, rate, 0.5, 0.2), np.zeros(rate // 10), tone(500, rate, 0.4, 0.05), np.zeros(rate)]
    return np.concatenate(parts).astype(np.float32)


def _markers(vad: EnergyVad, feeds: list[list[str]]) -> list[tuple[int, str]]:
    return [(i, m) for i, markers in enumerate(feeds) for m in markers]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=40))
def test_any_chunking_gives_the_markers_of_whole_frames(cuts: list[int]) -> None:
    x = float_to_pcm16(_speech_like())
    frames = EnergyVad(16000, hangover_ms=200)
    by_frame = [m for i in range(0, len(x), 640) for m in frames.feed(x[i : i + 640])]
    chunked = EnergyVad(16000, hangover_ms=200)
    bounds = [0, *sorted({2 * c * 7 % len(x) for c in cuts}), len(x)]
    by_chunk = [m for a, b in zip(bounds, bounds[1:], strict=False) for m in chunked.feed(x[a:b])]
    assert by_frame == by_chunk == ["speech_start", "speech_end"]


def test_levels_measured_on_float_samples_give_the_same_turns_as_the_pcm() -> None:
    x = _speech_like()
    from_pcm, from_floats = EnergyVad(16000, hangover_ms=80), EnergyVad(16000, hangover_ms=80)
    feeds_pcm, feeds_float = [], []
    for i in range(0, x.size, 320):
        frame = x[i : i + 320]
        feeds_pcm.append(from_pcm.feed(float_to_pcm16(frame)))
        feeds_float.append(from_floats.feed_levels(window_levels_db(frame, 160)))
    assert _markers(from_pcm, feeds_pcm) == _markers(from_floats, feeds_float)
    assert [m for _, m in _markers(from_pcm, feeds_pcm)] == ["speech_start", "speech_end"] * 2


def test_the_capture_measures_each_frame_once_for_the_vad_and_the_meter() -> None:
    cap = DeviceCapture(16000)  # not started: the frame is handed in as the loop would
    loud, quiet = tone(440, 16000, 0.01, 0.5), np.zeros(160, dtype=np.float32)
    samples = np.concatenate([loud, quiet])
    cap._last_frame, cap._level_db = Frame(float_to_pcm16(samples), 0.0, samples), None
    levels = cap.window_levels_db(10)
    assert levels is not None and len(levels) == 2
    assert math.isclose(levels[0], rms_db(float_to_pcm16(loud)), abs_tol=0.01) and levels[1] == SILENCE_DB
    assert math.isclose(cap.level_db, rms_db(float_to_pcm16(samples)), abs_tol=0.01)
    assert cap.window_levels_db(15) is None  # 20 ms is not whole 15 ms windows
