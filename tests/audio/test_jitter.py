import numpy as np
import pytest

from voicecli.audio.jitter import JitterPolicy, PlaybackBuffer
from voicecli.audio.ringbuffer import RingBuffer

RATE = 1000  # 1 sample per ms keeps the arithmetic readable
BLOCK = 10


def test_ring_buffer_is_bounded_and_wraps():
    ring = RingBuffer(8)
    assert ring.write(np.arange(6, dtype=np.float32)) == 6
    out = np.zeros(4, dtype=np.float32)
    assert ring.read_into(out) == 4 and out.tolist() == [0, 1, 2, 3]
    assert ring.write(np.arange(10, 20, dtype=np.float32)) == 6  # 2 left + 6 free
    assert ring.dropped == 4
    assert len(ring) == 8
    out = np.zeros(8, dtype=np.float32)
    assert ring.read_into(out) == 8
    assert out.tolist() == [4, 5, 10, 11, 12, 13, 14, 15]
    assert ring.clear() == 0


def _buffer(**kw) -> PlaybackBuffer:
    return PlaybackBuffer(RATE, capacity_seconds=10, policy=JitterPolicy(**kw))


def _read(buf: PlaybackBuffer, now: float) -> tuple[int, np.ndarray]:
    out = np.full(BLOCK, 9.0, dtype=np.float32)
    res = buf.read(out, now)
    return res.real, out


def test_holds_back_until_threshold_after_the_first_audio_then_plays():
    buf = _buffer(start_ms=40)
    buf.write(np.ones(30, dtype=np.float32), now=0.0)
    real, out = _read(buf, 0.001)
    assert real == 0 and not out.any()  # silence, nothing consumed
    buf.write(np.ones(20, dtype=np.float32), now=0.002)
    assert _read(buf, 0.03)[0] == 0  # 50 ms queued, but only 30 ms since the first audio
    real, out = _read(buf, 0.04)
    assert real == BLOCK and out.tolist() == [1.0] * BLOCK


def test_a_burst_of_twice_the_threshold_starts_at_once():
    buf = _buffer(start_ms=40)
    buf.write(np.ones(79, dtype=np.float32), now=0.0)
    assert _read(buf, 0.001)[0] == 0
    buf.write(np.ones(1, dtype=np.float32), now=0.002)
    assert _read(buf, 0.003)[0] == BLOCK


def test_short_utterance_starts_after_waiting_threshold():
    buf = _buffer(start_ms=40)
    buf.write(np.ones(15, dtype=np.float32), now=0.0)
    assert _read(buf, 0.02)[0] == 0
    assert _read(buf, 0.041)[0] == BLOCK


def test_underrun_grows_threshold_and_end_of_speech_does_not():
    buf = _buffer(start_ms=40, grow_ms=20, underrun_window_s=0.5)
    buf.write(np.ones(50, dtype=np.float32), now=0.0)
    t = 0.0
    for _ in range(9):  # starts at 40 ms, plays 50 ms
        t += 0.01
        _read(buf, t)
    real, out = _read(buf, t + 0.01)  # ran dry
    assert real == 0 and not out.any()
    buf.write(np.ones(50, dtype=np.float32), now=t + 0.05)  # more audio soon after: underrun
    assert buf.underruns == 1
    assert buf.threshold_ms == 60
    # drain, then a long pause before the next utterance: not an underrun
    for i in range(10):
        _read(buf, t + 0.1 + i * 0.01)
    buf.write(np.ones(80, dtype=np.float32), now=t + 5.0)
    assert buf.underruns == 1


def test_threshold_shrinks_after_stable_playback():
    buf = _buffer(start_ms=40, min_ms=40, grow_ms=20, shrink_after_s=1.0)
    buf.write(np.ones(50, dtype=np.float32), now=0.0)
    for i in range(10):  # starts at 40 ms, runs dry at 90 ms
        _read(buf, i * 0.01)
    buf.write(np.ones(5000, dtype=np.float32), now=0.1)
    assert buf.threshold_ms == 60
    t = 0.11
    while t < 1.5:
        _read(buf, t)
        t += 0.01
    assert buf.threshold_ms == 40


def test_flush_makes_next_block_silent_and_reports_dropped():
    buf = _buffer(start_ms=0)
    buf.write(np.ones(500, dtype=np.float32), now=0.0)
    assert _read(buf, 0.0)[0] == BLOCK
    assert buf.flush() == 490
    real, out = _read(buf, 0.011)
    assert real == 0 and not out.any()
    assert buf.underruns == 0
    assert buf.played_samples == BLOCK


def test_buffer_capacity_is_bounded():
    buf = PlaybackBuffer(RATE, capacity_seconds=0.1)
    assert buf.write(np.ones(250, dtype=np.float32), now=0.0) == 100
    assert buf.overflow_samples == 150


@pytest.mark.parametrize("start_ms", [40.0, 60.0])
def test_threshold_starts_at_policy(start_ms):
    assert _buffer(start_ms=start_ms).threshold_ms == start_ms


def _real_time_sender(seed: int, jitter_ms: float, chunk_ms: int = 20, chunks: int = 25) -> int:
    """An utterance paced in real time, each chunk late by 0..``jitter_ms`` (in order: a late
    chunk holds back the next), read in 10 ms blocks at a random phase: the underruns."""
    rng = np.random.default_rng(seed)
    buf = _buffer(start_ms=40)
    arrivals, last = [], 0.0
    for k in range(chunks):
        last = max(last, (k * chunk_ms + rng.uniform(0, jitter_ms)) / 1000)
        arrivals.append(last)
    t, k = rng.uniform(0, BLOCK) / 1000, 0
    while t < arrivals[-1] + 0.2:
        while k < chunks and arrivals[k] <= t:
            buf.write(np.ones(chunk_ms * RATE // 1000, dtype=np.float32), now=arrivals[k])
            k += 1
        _read(buf, t)
        t += BLOCK / 1000
    assert buf.played_samples == chunks * chunk_ms * RATE // 1000
    return buf.underruns


def test_chunks_late_by_less_than_the_threshold_never_run_the_buffer_dry():
    # the first chunks on time and a later one late: starting on the queued level ran dry
    assert sum(_real_time_sender(seed, jitter_ms=30) for seed in range(200)) == 0


def test_chunks_later_than_the_threshold_do_run_it_dry():
    assert sum(_real_time_sender(seed, jitter_ms=90) for seed in range(50)) > 0
