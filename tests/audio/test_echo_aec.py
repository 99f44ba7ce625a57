"""The far-end timeline and the WebRTC echo canceller on synthetic echo (no devices)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.conftest import from_pcm, pcm, tone
from tests.support.room import HARSH, PLAUSIBLE, drr_db, room_impulse_response, speechlike
from voicecli.audio.aec import ApmEchoCanceller, load_apm, resolve_aec
from voicecli.audio.aec_align import ReferenceTimeline
from voicecli.audio.echo import EchoCanceller
from voicecli.audio.playclock import StreamClock


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-12))


def test_timeline_places_blocks_at_their_play_time_and_silence_elsewhere():
    tl = ReferenceTimeline(16000)
    block = np.full(160, 0.25, np.float32)
    tl.add(pcm(block), 16000, t=10.0)  # 10.000 .. 10.010
    tl.add(pcm(block * 2), 16000, t=10.010)  # contiguous: same run
    tl.add(pcm(block), 16000, t=10.050)  # a gap of 30 ms: a new run
    assert tl.runs == 2
    got = tl.read(9.995, 80 + 160 + 160 + 480 + 160 + 80)  # 9.995 .. 10.065
    assert np.all(got[:80] == 0)
    assert np.allclose(got[80:240], 0.25, atol=1e-4)
    assert np.allclose(got[240:400], 0.5, atol=1e-4)
    assert np.all(got[400:880] == 0)  # nothing played between the runs
    assert np.allclose(got[880:1040], 0.25, atol=1e-4)
    assert np.all(got[1040:] == 0)  # not played yet
    assert tl.end_time == pytest.approx(10.060)


def test_timeline_resamples_device_rate_blocks_without_shifting_them():
    tl = ReferenceTimeline(16000)
    sig = tone(440, 48000, 0.5)
    for i in range(0, sig.size, 480):  # 10 ms device blocks at 48 kHz
        tl.add(pcm(sig[i:i + 480]), 48000, t=5.0 + i / 48000)
    want = tone(440, 16000, 0.5)
    got = tl.read(5.0, want.size)
    mid = slice(1600, 6400)  # away from the run's edges
    assert tl.runs == 1
    # placed to the nearest sample: the filter's group delay may leave half a sample (31 µs at
    # 16 kHz), worth at most amplitude x 2πf x half a sample for a tone
    half_sample = np.max(np.abs(want)) * 2 * np.pi * 440 * 0.5 / 16000
    assert np.max(np.abs(got[mid] - want[mid])) < half_sample + 0.01
    # no lag: lag 0 matches best (a group delay of 36.5 samples ties it with lag 1 to within
    # the floating-point sums' rounding, which differs between numpy builds)
    match = np.correlate(got[mid], want[1590:6410], "valid")
    assert match[10] >= match.max() * (1 - 1e-5) and match[10] > match[8] and match[10] > match[12]


def test_stream_clock_counts_samples_through_jittery_dac_times_and_restarts_on_a_jump():
    clock = StreamClock(48000)
    rng = np.random.default_rng(0)
    got = [clock.advance(7.0 + k * 0.010 + rng.uniform(-0.005, 0.005), 480) for k in range(300)]
    errors = np.abs(np.array(got) - (7.0 + np.arange(300) * 0.010))
    assert errors[50:].max() < 0.0015  # within a sixth of the jitter once settled
    assert np.all(np.diff(got[50:]) > 0.0095)  # and blocks follow each other
    t = clock.advance(7.0 + 300 * 0.010 + 0.040, 480)  # the stream stalled for 40 ms
    assert clock.restarts == 1 and t == pytest.approx(7.0 + 3.040)


def test_stream_clock_keeps_the_count_through_a_slow_wander_of_the_reported_times():
    # a sound server's reported times drift 25 ms away from the samples' steady pace over
    # 3 s and back (its buffers filling and draining): the clock stays on the count
    clock = StreamClock(16000, jump_s=0.04)
    k = np.arange(600)
    wander = 0.025 * np.sin(np.pi * k / 600) ** 2
    got = np.array([clock.advance(3.0 + i * 0.010 + wander[i], 160) for i in k])
    assert clock.restarts == 0 and clock.steps == 0
    assert np.max(np.abs(got - (3.0 + k * 0.010))) < 0.006  # followed at 1 ms/s at most, not 25 ms
    # a real drift (a sound card 200 ppm slow) is still followed
    drifting = StreamClock(16000, jump_s=0.04)
    got = np.array([drifting.advance(3.0 + i * 0.010 * 1.0002, 160) for i in range(3000)])
    assert abs(got[-1] - (3.0 + 2999 * 0.010 * 1.0002)) < 0.002


def test_stream_clock_takes_a_step_of_the_reported_times_at_once_but_not_jitter():
    # 10 ms callbacks jittering by up to 3 ms; after 5 s the server drops 20 ms of samples:
    # from then on every reported time is 20 ms later than the count says
    rng = np.random.default_rng(7)
    clock = StreamClock(16000, jump_s=0.04)
    true = [3.0 + i * 0.010 + (0.020 if i >= 500 else 0.0) for i in range(1000)]
    got = np.array([clock.advance(t + rng.uniform(-0.003, 0.003), 160) for t in true])
    err = np.abs(got - np.array(true))
    assert clock.restarts == 0 and clock.steps == 1
    assert err[:500].max() < 0.004  # the jitter never moved it by a step
    assert err[520:].max() < 0.004  # the step was taken within a few blocks, not at 1 ms/s
    # a step down is taken too
    down = StreamClock(16000, jump_s=0.04)
    got = np.array([down.advance(3.0 + i * 0.010 - (0.012 if i >= 300 else 0.0), 160) for i in range(600)])
    assert down.steps == 1 and abs(got[-1] - (3.0 + 599 * 0.010 - 0.012)) < 0.001


def test_timeline_keeps_only_its_window():
    tl = ReferenceTimeline(1000, seconds=0.1)
    for k in range(30):
        tl.add(pcm(np.full(10, 0.1 * (k % 5 + 1), np.float32)), 1000, t=k * 0.01)
    assert np.all(tl.read(0.0, 10) == 0)  # long gone from the ring
    assert np.allclose(tl.read(0.29, 10), 0.5, atol=1e-3)


def test_resolve_aec_modes():
    assert resolve_aec("auto", mic=True, speaker=True)
    assert not resolve_aec("auto", mic=True, speaker=False)
    assert not resolve_aec("auto", mic=False, speaker=True)
    assert resolve_aec("on", mic=True, speaker=False)
    assert not resolve_aec("off", mic=True, speaker=True)


def _run_echo(rate: int, delay_ms: float, device_rate: int, near: np.ndarray | None = None,
              seconds: float = 4.0) -> tuple[np.ndarray, np.ndarray, ApmEchoCanceller]:
    """Play speech-like audio at ``device_rate`` through a synthetic room into a mic at ``rate``."""
    factory, why = load_apm()
    assert factory is not None, why
    aec = ApmEchoCanceller(rate, factory)
    assert isinstance(aec, EchoCanceller)
    far_dev = speechlike(device_rate, seconds, seed=3)
    from voicecli.audio.resample import resample

    far = resample(far_dev, device_rate, rate)
    mic = np.convolve(far, room_impulse_response(rate, PLAUSIBLE.with_(delay_ms=delay_ms)))[:far.size]
    if near is not None:
        mic[:near.size] += near[:mic.size]
    t0 = 100.0
    out = np.zeros_like(mic)
    dev_block, frame = device_rate // 100, rate // 50
    played = 0
    for i in range(0, mic.size - frame + 1, frame):
        t_mic = t0 + i / rate
        while played < far_dev.size and t0 + played / device_rate < t_mic + 0.08:  # played 80 ms ahead of the mic frame
            aec.reference(pcm(far_dev[played:played + dev_block]), device_rate, t0 + played / device_rate)
            played += dev_block
        out[i:i + frame] = from_pcm(aec.process(pcm(mic[i:i + frame]), True, t_mic))
    return mic, out, aec


@pytest.mark.parametrize(("rate", "device_rate"), [(16000, 48000), (24000, 44100)])
def test_canceller_removes_80ms_echo_with_a_tail(rate: int, device_rate: int):
    mic, out, aec = _run_echo(rate, 80.0, device_rate)
    steady = slice(mic.size // 2, None)
    erle = _db(mic[steady]) - _db(out[steady])
    assert erle >= 30.0, erle
    assert aec.blocks_processed == mic.size // (rate // 100)


def test_canceller_keeps_near_end_speech_during_double_talk():
    rate = 16000
    near = np.zeros(rate * 4, np.float32)
    near[rate * 3:] = tone(300, rate, 1.0, amp=0.2)  # the user talks over the agent for the last second
    mic, out, _ = _run_echo(rate, 80.0, 48000, near=near)
    echo_only = slice(rate * 2, rate * 3)
    double_talk = slice(rate * 3 + rate // 5, rate * 4)
    assert _db(out[double_talk]) - _db(out[echo_only]) > 15.0  # the user stands out of the residue
    assert _db(out[double_talk]) > _db(near[double_talk]) - 10.0  # and is not cancelled away


def test_canceller_refuses_a_rate_it_cannot_cut_into_10ms_blocks():
    factory, why = load_apm()
    assert factory is not None, why
    with pytest.raises(ValueError):
        ApmEchoCanceller(11025, factory)


def test_echo_verdict_finds_the_delay_and_level_of_an_echo_and_no_echo_in_noise():
    from voicecli.audio.aec_probe import echo_verdict, probe_signal

    rate = 16000
    played = np.concatenate([probe_signal(rate), np.zeros(rate // 2, np.float32)])
    rir = room_impulse_response(rate, PLAUSIBLE.with_(delay_ms=85.0, attenuation_db=-12.0))
    echo = np.convolve(played, rir)[:played.size]
    rng = np.random.default_rng(1)
    noise = (0.002 * rng.standard_normal(played.size)).astype(np.float32)
    found = echo_verdict(played, echo + noise, rate)
    assert found.echoes and abs(found.delay_ms - 85.0) <= 1.0 and -14.0 < found.level_db < -10.0, found
    assert "hears the speaker" in found.line(False) and "--half-duplex" in found.line(False)
    quiet = echo_verdict(played, noise, rate)
    assert not quiet.echoes and "does not hear" in quiet.line(True)


def test_stream_clock_restart_counts_again_from_the_next_report():
    clock = StreamClock(1000)
    assert clock.advance(1.0, 10) == 1.0
    assert clock.advance(1.012, 10) == pytest.approx(1.011)  # jitter: half-way at the second report
    clock.restart()
    assert clock.advance(1.050, 10) == 1.050 and clock.restarts == 1


@pytest.mark.parametrize("acoustics", [PLAUSIBLE, HARSH, PLAUSIBLE.with_(delay_ms=20.0, rt60_s=0.2, drr_db=3.0)])
def test_room_response_has_the_asked_delay_level_drr_and_rt60(acoustics):
    rate = 16000
    rir = room_impulse_response(rate, acoustics).astype(np.float64)
    assert int(np.argmax(np.abs(rir))) == round(rate * acoustics.delay_ms / 1000)
    assert 20 * np.log10(np.max(np.abs(rir))) == pytest.approx(acoustics.attenuation_db, abs=0.01)
    assert drr_db(rir) == pytest.approx(acoustics.drr_db, abs=0.01)
    # RT60 from the tail's energy decay (Schroeder's backward integral), fitted from -5 to -25 dB
    tail = rir[int(np.argmax(np.abs(rir))) + 1:] ** 2
    decay = 10 * np.log10(np.cumsum(tail[::-1])[::-1] / np.sum(tail))
    t = np.arange(decay.size) / rate
    fit = (decay <= -5) & (decay >= -25)
    slope = np.polyfit(t[fit], decay[fit], 1)[0]
    assert -60 / slope == pytest.approx(acoustics.rt60_s, rel=0.1)
