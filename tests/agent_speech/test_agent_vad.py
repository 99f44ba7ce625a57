"""The energy VAD: start after min_speech_ms of sound, end after hangover_ms of quiet."""

from __future__ import annotations

import numpy as np

from voicecli.audio.vad import EnergyVad
from voicecli.pcm.levels import rms_db

from .conftest import frames, to_16k

RATE = 16000
FRAME_MS = 20


def tone(ms: int, dbfs: float = -20.0, freq: float = 440.0) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    amplitude = 32767 * 10 ** (dbfs / 20) * np.sqrt(2)  # RMS of the sine = dbfs
    pcm: bytes = (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()
    return pcm


def noise(ms: int, dbfs: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, 32767 * 10 ** (dbfs / 20), RATE * ms // 1000)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(2 * RATE * ms // 1000)


def run(vad: EnergyVad, pcm: bytes) -> list[tuple[int, str]]:
    """(time in ms at the end of the frame that produced it, marker)."""
    events = []
    for i, frame in enumerate(frames(pcm, FRAME_MS, RATE)):
        events += [((i + 1) * FRAME_MS, marker) for marker in vad.feed(frame)]
    return events


def test_level_db() -> None:
    assert abs(rms_db(tone(100, -20.0)) - -20.0) < 0.5
    assert rms_db(silence(20)) <= -100


def test_tone_burst_starts_and_ends_after_the_hangover() -> None:
    vad = EnergyVad(RATE)
    events = run(vad, silence(1000) + tone(1000) + silence(1500))
    assert [m for _, m in events] == ["speech_start", "speech_end"]
    (start_ms, _), (end_ms, _) = events
    assert 1000 + 60 - FRAME_MS <= start_ms <= 1000 + 60 + FRAME_MS
    assert abs(end_ms - (2000 + 600)) <= FRAME_MS  # 600 ms of silence, ±1 frame
    assert not vad.speaking


def test_speaking_flag_follows_the_markers() -> None:
    vad = EnergyVad(RATE)
    vad.feed(tone(200))
    assert vad.speaking
    vad.feed(silence(400))
    assert vad.speaking  # still inside the hangover
    assert vad.feed(silence(300)) == ["speech_end"]
    assert not vad.speaking


def test_silence_and_quiet_noise_give_no_markers() -> None:
    vad = EnergyVad(RATE)
    assert run(vad, silence(3000)) == []
    assert run(vad, noise(3000, -55.0)) == []
    assert not vad.speaking


def test_clicks_shorter_than_min_speech_are_rejected() -> None:
    vad = EnergyVad(RATE, min_speech_ms=60)
    clicks = b"".join(tone(30, -6.0) + silence(200) for _ in range(5))
    assert run(vad, clicks) == []
    assert run(vad, tone(80, -6.0) + silence(1000))[0][1] == "speech_start"


def test_short_pauses_inside_speech_do_not_end_it() -> None:
    vad = EnergyVad(RATE, hangover_ms=600)
    pcm = tone(500) + silence(300) + tone(500) + silence(900)
    assert [m for _, m in run(vad, pcm)] == ["speech_start", "speech_end"]


def test_frame_size_does_not_change_the_timing() -> None:
    pcm = silence(500) + tone(700) + silence(1000)
    timings = {}
    for frame_ms in (10, 30, 75):
        vad = EnergyVad(RATE)
        timings[frame_ms] = [
            ((i + 1) * frame_ms, m) for i, f in enumerate(frames(pcm, frame_ms, RATE)) for m in vad.feed(f)
        ]
    for frame_ms, events in timings.items():
        assert [m for _, m in events] == ["speech_start", "speech_end"]
        # each marker comes with the frame holding the 10 ms window that decided it
        assert abs(events[0][0] - 560) < frame_ms + 10
        assert abs(events[1][0] - 1800) < frame_ms + 10


def test_adaptive_floor_ignores_steady_noise_but_hears_speech() -> None:
    background = noise(3000, -45.0)
    assert [m for _, m in run(EnergyVad(RATE, threshold_db=-60.0), background)][:1] == ["speech_start"]
    vad = EnergyVad(RATE, threshold_db=-60.0, adaptive=True)
    assert run(vad, background) == []
    assert vad.noise_floor_db > -50.0
    assert [m for _, m in run(vad, tone(500, -15.0) + noise(1000, -45.0, seed=1))] == ["speech_start", "speech_end"]


def test_hibari_speech_is_detected(synth) -> None:  # type: ignore[no-untyped-def]
    speech = to_16k(synth.synthesize("What is the weather in Paris today?"))
    events = run(EnergyVad(RATE), silence(500) + speech + silence(1000))
    assert [m for _, m in events] == ["speech_start", "speech_end"]
    assert events[0][0] < 500 + 400
