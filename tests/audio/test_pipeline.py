import numpy as np
import pytest

from tests.audio.conftest import from_pcm, peak_hz, tone
from voicecli.audio.base import frame_bytes
from voicecli.audio.pipeline import CapturePipeline
from voicecli.audio.resample import OverlapResampler, resample


@pytest.mark.parametrize(("device_rate", "rate"), [(44100, 16000), (48000, 24000), (44100, 8000), (16000, 16000)])
def test_blocks_become_stamped_frames_at_the_session_rate(device_rate, rate):
    pipe = CapturePipeline(device_rate, channels=2, rate=rate, frame_ms=20)
    mono = tone(1000, device_rate, 1.0)
    stereo = np.column_stack((mono, mono))
    block = device_rate // 100
    t0 = 50.0
    frames = []
    for i in range(0, mono.size - block + 1, block):
        frames += pipe.feed(stereo[i : i + block], t0 + i / device_rate)
    assert all(len(f.pcm) == frame_bytes(rate) for f in frames)
    assert len(frames) >= 48  # 1 s of input: 50 frames minus the lookahead still held
    assert abs(peak_hz(from_pcm(b"".join(f.pcm for f in frames)), rate) - 1000) < 10
    starts = np.array([f.start_time for f in frames])
    assert np.allclose(starts - t0, np.arange(len(frames)) * 0.02, atol=1e-4)


def test_a_frame_comes_out_as_soon_as_its_input_and_the_lookahead_are_in():
    pipe = CapturePipeline(44100, channels=1, rate=16000, frame_ms=20)
    need = int(np.ceil((0.02 + pipe.lookahead_seconds) * 44100))
    assert pipe.lookahead_seconds < 0.006
    silence = np.zeros((need - 1, 1), dtype=np.float32)
    assert pipe.feed(silence, 0.0) == []
    assert len(pipe.feed(np.zeros((1, 1), dtype=np.float32), 0.0)) == 1


def test_overlap_resampler_matches_one_shot_and_counts_exactly():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(44100) * 0.3).astype(np.float32)
    rs = OverlapResampler(44100, 16000)
    parts = [rs.process(x[i : i + 441]) for i in range(0, x.size, 441)]
    held = rs.pending_seconds
    assert 0 < held < 0.006
    parts.append(rs.push_out_tail())
    y = np.concatenate(parts)
    whole = resample(x, 44100, 16000)
    assert y.size == whole.size == 16000
    assert np.max(np.abs(y - whole)) < 3e-4  # -70 dB of a full-scale signal, from chunking alone


def test_overlap_resampler_passthrough():
    rs = OverlapResampler(16000, 16000)
    x = tone(100, 16000, 0.01)
    assert rs.passthrough and np.array_equal(rs.process(x), x)
