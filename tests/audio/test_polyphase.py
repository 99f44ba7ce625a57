"""The capture resampler: alias rejection, seamless streaming, a small known group delay."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.audio.conftest import peak_hz, tone
from voicecli.audio.resample import PolyphaseResampler

RATIOS = [(48000, 16000), (44100, 16000), (48000, 24000), (32000, 16000), (44100, 24000)]


def _alias_rejection_db(src: int, dst: int, freq: float) -> float:
    """How far below a full tone at ``freq`` its alias comes out, resampled in 10 ms blocks."""
    amp = 0.5
    x = tone(freq, src, 0.5, amp)
    rs = PolyphaseResampler(src, dst)
    step = src // 100
    y = np.concatenate([rs.process(x[i : i + step]) for i in range(0, x.size, step)])[dst // 20 :]
    y = y.astype(np.float64)
    w = np.blackman(y.size)
    spectrum = np.abs(np.fft.rfft(y * w)) / (w.sum() / 2)
    freqs = np.fft.rfftfreq(y.size, 1 / dst)
    alias = abs(((freq + dst / 2) % dst) - dst / 2)
    i = int(np.argmin(np.abs(freqs - alias)))
    return float(20 * np.log10(amp) - 20 * np.log10(spectrum[max(0, i - 4) : i + 5].max() + 1e-15))


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_tones_above_the_new_band_fold_back_at_least_90_db_down(src, dst):
    for freq in (0.5375 * dst, 0.7 * dst, 0.95 * src / 2):
        assert _alias_rejection_db(src, dst, freq) >= 90, freq


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_the_pass_band_keeps_pitch_and_level(src, dst):
    rs = PolyphaseResampler(src, dst)
    for freq in (300.0, 1000.0, 0.4 * dst):
        rs.reset()
        y = rs.process(tone(freq, src, 0.5, 0.5))[dst // 20 :]
        assert abs(peak_hz(y, dst) - freq) < 5
        assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 4410), min_size=1, max_size=12), ratio=st.sampled_from(RATIOS))
def test_any_chunking_gives_the_same_output_as_one_call(cuts, ratio):
    src, dst = ratio
    x = (np.random.default_rng(len(cuts)).standard_normal(4410) * 0.3).astype(np.float32)
    whole = PolyphaseResampler(src, dst).process(x)
    rs = PolyphaseResampler(src, dst)
    bounds = [0, *sorted(cuts), x.size]
    parts = [rs.process(x[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    chunked = np.concatenate(parts)
    assert chunked.size == whole.size == -(-x.size * dst // src)  # nothing held back
    assert np.max(np.abs(chunked - whole)) < 1e-6


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_group_delay_is_a_few_ms_and_reported(src, dst):
    rs = PolyphaseResampler(src, dst)
    assert 0.001 < rs.delay_seconds < 0.004
    x = np.zeros(src // 10, dtype=np.float32)
    at = src // 20  # an impulse at 50 ms
    x[at] = 1.0
    y = np.concatenate([rs.process(x[i : i + src // 100]) for i in range(0, x.size, src // 100)])
    peak = int(np.argmax(y))
    assert abs(peak / dst - (at / src + rs.delay_seconds)) <= 1 / dst


def test_equal_rates_pass_through():
    rs = PolyphaseResampler(16000, 16000)
    x = tone(100, 16000, 0.01)
    assert rs.passthrough and rs.delay_seconds == 0
    assert np.array_equal(rs.process(x), x)


def test_reset_forgets_the_history():
    rs = PolyphaseResampler(48000, 16000)
    rs.process(tone(1000, 48000, 0.05))
    rs.reset()
    assert not np.any(rs.process(np.zeros(480, dtype=np.float32)))
