import numpy as np
import pytest

from tests.audio.conftest import from_pcm, peak_hz, tone
from voicecli.audio.base import frame_bytes
from voicecli.audio.pipeline import CapturePipeline


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
    assert len(frames) == 50  # 1 s of input: nothing held back
    assert abs(peak_hz(from_pcm(b"".join(f.pcm for f in frames)), rate) - 1000) < 10
    starts = np.array([f.start_time for f in frames])
    assert np.allclose(starts - t0 + pipe.delay_seconds, np.arange(len(frames)) * 0.02, atol=1e-4)


def test_a_frame_comes_out_as_soon_as_its_last_input_sample_is_in():
    pipe = CapturePipeline(44100, channels=1, rate=16000, frame_ms=20)
    assert 0 < pipe.delay_seconds < 0.003
    need = 319 * 44100 // 16000 + 1  # the input sample under the frame's newest output sample
    assert pipe.feed(np.zeros((need - 1, 1), dtype=np.float32), 0.0) == []
    assert len(pipe.feed(np.zeros((1, 1), dtype=np.float32), 0.0)) == 1


@pytest.mark.parametrize(("device_rate", "rate", "frame_ms"), [(48000, 16000, 20), (44100, 16000, 20),
                                                                (48000, 24000, 40), (32000, 16000, 30)])
def test_10_ms_blocks_become_frames_of_the_provider_size_with_no_frame_held_back(device_rate, rate, frame_ms):
    """Every frame leaves with the block that completes it: after each 10 ms block, less
    than one frame is waiting, so mic -> wire is about one block."""
    pipe = CapturePipeline(device_rate, channels=1, rate=rate, frame_ms=frame_ms)
    block = device_rate // 100
    frame = rate * frame_ms // 1000
    got = 0
    x = tone(440, device_rate, 1.0)
    for i in range(0, x.size, block):
        frames = pipe.feed(x[i : i + block, None], i / device_rate)
        got += len(frames)
        assert all(len(f.pcm) == 2 * frame and f.samples.size == frame for f in frames)
        produced = (i + block) * rate // device_rate
        assert produced - got * frame < frame
    assert got == rate // frame


def test_frames_carry_their_float_samples_for_the_meters():
    pipe = CapturePipeline(16000, channels=1, rate=16000, frame_ms=20)
    x = tone(440, 16000, 0.04, amp=0.25)
    frames = pipe.feed(x[:, None], 0.0)
    assert len(frames) == 2
    for f in frames:
        assert np.array_equal(from_pcm(f.pcm), np.rint(f.samples * 32768) / 32768)


def test_stamps_account_for_the_resampler_delay():
    pipe = CapturePipeline(48000, channels=1, rate=16000, frame_ms=20)
    frames = []
    for i in range(0, 4800, 480):
        frames += pipe.feed(np.zeros((480, 1), dtype=np.float32), 100.0 + i / 48000)
    assert frames[0].start_time == pytest.approx(100.0 - pipe.delay_seconds)


def test_stamps_follow_the_sample_clock_through_callback_jitter_and_take_a_gap_at_once():
    pipe = CapturePipeline(48000, channels=1, rate=16000, frame_ms=20)
    rng = np.random.default_rng(5)
    block = np.zeros((480, 1), dtype=np.float32)
    frames = []
    for i in range(100):  # 1 s of blocks, each stamped up to 4 ms late, the first ones in a burst
        late = 0.004 * rng.random() if i > 3 else 0.03 - 0.01 * i
        frames += pipe.feed(block, 10.0 + i * 0.01 + late)
    steps = np.diff([f.start_time for f in frames])
    assert np.allclose(steps, 0.02, atol=0.001)
    for i in range(100, 110):  # the device lost 200 ms of input: the stamps jump with it
        frames += pipe.feed(block, 10.2 + i * 0.01)
    assert len(frames) == 55
    assert frames[-1].start_time == pytest.approx(10.2 + 1.08 - pipe.delay_seconds, abs=0.003)
    assert np.allclose(np.diff([f.start_time for f in frames[-4:]]), 0.02, atol=0.001)
