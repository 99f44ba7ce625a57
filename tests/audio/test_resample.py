import numpy as np
import pytest

from tests.audio.conftest import peak_hz, tone
from voicecli.audio.resample import StreamResampler, downmix, resample, resample_pcm16
from voicecli.pcm.convert import float_to_int16, float_to_pcm16, pcm16_to_float


def test_pcm16_float_round_trip_is_exact():
    ints = np.array([-32768, -1, 0, 1, 12345, 32767], dtype="<i2")
    back = float_to_int16(pcm16_to_float(ints.tobytes()))
    assert back.tolist() == ints.tolist()


def test_float_to_pcm16_clips_instead_of_wrapping():
    out = np.frombuffer(float_to_pcm16(np.array([1.5, -1.5, 0.999], dtype=np.float32)), dtype="<i2")
    assert out.tolist() == [32767, -32768, 32735]


def test_downmix_averages_channels():
    block = np.array([[1.0, 0.0], [0.5, 0.5], [-1.0, 1.0]], dtype=np.float32)
    assert downmix(block).tolist() == [0.5, 0.5, 0.0]
    assert downmix(block[:, :1]).tolist() == [1.0, 0.5, -1.0]


@pytest.mark.parametrize(
    ("src", "dst"), [(48000, 16000), (44100, 24000), (16000, 48000), (24000, 44100), (8000, 16000)]
)
def test_one_shot_resample_keeps_length_and_pitch(src, dst):
    out = resample(tone(1000, src, 0.5), src, dst)
    assert abs(out.size - dst // 2) <= 1
    assert abs(peak_hz(out, dst) - 1000) < 5


def test_resample_pcm16_same_rate_is_identity():
    data = float_to_pcm16(tone(440, 16000, 0.1))
    assert resample_pcm16(data, 16000, 16000) == data


@pytest.mark.parametrize(("src", "dst"), [(44100, 16000), (48000, 24000), (16000, 44100)])
def test_streaming_resampler_has_no_seams(src, dst):
    """10 ms chunks give the same signal as one big chunk, and match the one-shot result."""
    signal = tone(700, src, 1.0)
    step = src // 100

    def run(chunk: int) -> np.ndarray:
        rs = StreamResampler(src, dst)
        parts = [rs.process(signal[i : i + chunk]) for i in range(0, signal.size, chunk)]
        parts.append(rs.push_out_tail())
        return np.concatenate(parts)

    chunked, single = run(step), run(signal.size)
    assert chunked.size == single.size == dst  # the held-back tail came out, nothing more
    assert np.max(np.abs(chunked - single)) < 1e-4
    whole = resample(signal, src, dst)
    core = slice(dst // 20, -dst // 20)
    best = min(np.max(np.abs(whole[core] - np.roll(chunked, -lag)[core])) for lag in range(-3, 4))
    assert best < 0.06  # same waveform, give or take a sub-sample delay
    assert abs(peak_hz(chunked, dst) - 700) < 3


def test_streaming_resampler_lags_little_and_reports_it():
    rs = StreamResampler(44100, 16000)
    got = sum(rs.process(np.zeros(441, dtype=np.float32)).size for _ in range(20))
    missing = 20 * 160 - got
    assert missing > 0
    assert missing / 16000 < 0.02  # under 20 ms held back
    assert rs.pending_seconds * 16000 == missing
    assert rs.push_out_tail().size == missing
    assert rs.pending_seconds == 0


def test_equal_rates_pass_through():
    rs = StreamResampler(16000, 16000)
    x = tone(100, 16000, 0.01)
    assert rs.passthrough
    assert np.array_equal(rs.process(x), x)
    assert rs.push_out_tail().size == 0
