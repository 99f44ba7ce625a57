import numpy as np
import pytest

from tests.audio.conftest import from_pcm
from voicecli.audio.base import frame_bytes
from voicecli.audio.framer import Framer


def test_frames_are_exact_and_remainder_is_carried():
    framer = Framer(16000, 320)
    ramp = (np.arange(1000, dtype=np.float32) / 1000) * 0.5
    first = framer.push(ramp[:500], start_time=10.0)
    assert len(first) == 1 and framer.pending_samples == 180
    second = framer.push(ramp[500:], start_time=10.0 + 500 / 16000)
    assert len(second) == 2 and framer.pending_samples == 40
    frames = first + second
    assert all(len(f.pcm) == frame_bytes(16000) for f in frames)
    joined = np.concatenate([from_pcm(f.pcm) for f in frames])
    assert np.allclose(joined, ramp[:960], atol=1 / 32768)
    # each frame is stamped with its own first sample's time, also across a carry-over
    assert [f.start_time for f in frames] == pytest.approx([10.0, 10.02, 10.04])


def test_small_chunks_accumulate():
    framer = Framer(8000, 160)
    out = []
    for i in range(100):
        out += framer.push(np.full(7, 0.1, dtype=np.float32), start_time=i * 7 / 8000)
    assert len(out) == 700 // 160
    assert framer.pending_samples == 700 % 160


def test_reset_drops_remainder():
    framer = Framer(8000, 160)
    framer.push(np.zeros(100, dtype=np.float32), 0.0)
    framer.reset()
    assert framer.pending_samples == 0
