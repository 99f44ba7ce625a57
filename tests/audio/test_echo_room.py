"""The bed's room (speaker → microphone echo) and echo cancellation on real device streams."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.audio.conftest import from_pcm
from tests.support.pulse import MIC_RATE, PulseBed
from tests.support.room import speechlike
from voicecli.audio.aec import ApmEchoCanceller, load_apm
from voicecli.audio.capture import DeviceCapture
from voicecli.audio.playback import DevicePlayback
from voicecli.pcm.convert import float_to_pcm16

pytestmark = pytest.mark.pulse


async def _play_through_room(bed: PulseBed, seconds: float, aec: ApmEchoCanceller | None,
                             delay_ms: float = 80.0) -> tuple[list[tuple[float, bytes]], list[tuple[float, bytes]],
                                                              list[tuple[float, bytes]]]:
    """Plays speech-like audio at 24 kHz with the room on; returns the reference as tapped,
    the microphone frames and the cancelled frames (before the residual echo gate), each
    with its time."""
    room = bed.room(delay_ms=delay_ms)
    play, cap = DevicePlayback(24000), DeviceCapture(MIC_RATE)
    taps: list[tuple[float, bytes]] = []
    mic: list[tuple[float, bytes]] = []
    out: list[tuple[float, bytes]] = []
    await play.start()
    await cap.start()
    play.add_tap(lambda pcm, rate, t: taps.append((t, pcm)))
    if aec is not None:
        play.add_tap(aec.reference)
    far = speechlike(24000, seconds, seed=11)

    async def feed() -> None:
        for i in range(0, far.size, 480):
            play.write(float_to_pcm16(far[i:i + 480]), 24000)
            await asyncio.sleep(0.018)

    feeder = asyncio.create_task(feed())
    try:
        async for frame in cap.frames():
            mic.append((cap.last_capture_time, frame))
            if aec is not None:
                aec.process(frame, True, cap.last_capture_time)
                out.append((cap.last_capture_time, aec.cancelled))  # as AEC3 left it, before the gate
            if feeder.done() and play.buffered_seconds == 0 and len(mic) > 25 and not play.audible:
                break
    finally:
        feeder.cancel()
        await cap.close()
        await play.close()
        bed.close_room()
    assert room.chunks > 0, "the room never heard the speaker"
    return taps, mic, out


def _joined(frames: list[tuple[float, bytes]]) -> tuple[float, np.ndarray]:
    return frames[0][0], np.concatenate([from_pcm(f) for _, f in frames])


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-12))


async def test_room_returns_the_speaker_into_the_mic_after_its_delay(pulse_bed: PulseBed):
    taps, mic, _ = await _play_through_room(pulse_bed, 2.0, None, delay_ms=80.0)
    from voicecli.audio.aec_align import ReferenceTimeline

    ref = ReferenceTimeline(MIC_RATE, seconds=10.0)
    for t, pcm in taps:
        ref.add(pcm, 24000, t)
    t0, heard = _joined(mic)
    played = ref.read(t0, heard.size)
    assert _db(heard) > -40.0, "no echo came back"
    # the echo lags what the playback stream says it played by the room's delay (80 ms)
    # plus what the sound server adds between the DAC time and the monitor
    corr = np.correlate(heard, played[: heard.size - 4000], "valid")
    lag_ms = float(np.argmax(np.abs(corr))) / MIC_RATE * 1000
    assert 50.0 <= lag_ms <= 150.0, lag_ms


async def test_canceller_on_the_room_removes_most_of_the_echo(pulse_bed: PulseBed):
    factory, why = load_apm()
    assert factory is not None, why
    aec = ApmEchoCanceller(MIC_RATE, factory)
    _, mic, out = await _play_through_room(pulse_bed, 4.0, aec)
    _, heard = _joined(mic)
    _, cleaned = _joined(out)
    assert _db(heard) > -40.0, "no echo came back"
    # per half second after the first: the bed's feeder thread can be late on a busy
    # machine, which shifts its echo for a moment (a real room does not); the median
    # window tells the steady state
    half = MIC_RATE // 2
    erle = [_db(heard[k:k + half]) - _db(cleaned[k:k + half]) for k in range(2 * half, heard.size - 2 * half, half)]
    assert len(erle) >= 4
    assert float(np.median(erle)) >= 30.0, erle


async def test_echo_check_hears_the_room_and_not_a_quiet_bed(pulse_bed: PulseBed):
    from voicecli.audio.aec_probe import probe_echo

    async def check() -> object:
        play, cap = DevicePlayback(24000), DeviceCapture(MIC_RATE)
        await play.start()
        await cap.start()
        try:
            return await probe_echo(cap, play)
        finally:
            await cap.close()
            await play.close()

    pulse_bed.room(delay_ms=60.0, attenuation_db=-10.0)
    try:
        echo = await check()
    finally:
        pulse_bed.close_room()
    assert echo.echoes and 20.0 <= echo.delay_ms <= 150.0, echo  # type: ignore[attr-defined]
    quiet = await check()
    assert not quiet.echoes, quiet  # type: ignore[attr-defined]


def test_talk_echo_check_line_on_the_bed(pulse_bed: PulseBed):
    from voicecli.audio.aec_probe import check_setup
    from voicecli.audio.backends import SoundDeviceBackend

    pulse_bed.room(delay_ms=60.0, attenuation_db=-10.0)
    try:
        line = check_setup(SoundDeviceBackend(), "auto")
    finally:
        pulse_bed.close_room()
    assert line is not None and "hears the speaker" in line and "echo cancellation is on" in line, line
    line = check_setup(SoundDeviceBackend(), "off")
    assert line is not None and "does not hear" in line and "is off" in line, line
