"""The audio engine on real PortAudio streams, against the private PulseAudio test bed."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio.conftest import from_pcm, pcm, peak_hz, tone
from tests.support.priority import SESSION_NICE, can_raise
from tests.support.pulse import PulseBed
from voicecli.audio.backends import SoundDeviceBackend
from voicecli.audio.base import MonitoredStream, TappablePlayback, frame_bytes
from voicecli.audio.capture import DeviceCapture
from voicecli.audio.devices import list_devices
from voicecli.audio.playback import DevicePlayback
from voicecli.audio.realtime import server_client_threads
from voicecli.errors import AudioDeviceError

pytestmark = pytest.mark.pulse


async def _tone_frames(bed: PulseBed, cap, n: int, freq: float = 1000) -> list[bytes]:
    """Plays a tone into the virtual mic; returns ``n`` frames captured while it sounds.
    Also checks that each frame's capture time is on the monotonic clock and recent."""
    bed.mic.play(tone(freq, 16000, 0.4 + n * 0.02))
    got: list[bytes] = []
    deadline = time.monotonic() + 5
    async for frame in cap.frames():
        assert len(frame) == frame_bytes(cap.rate)
        if cap.level_db > -20:
            got.append(frame)
            # frames handed out as they come (no backlog while the tone plays) are stamped
            # with their first sample's capture time, on the monotonic clock
            age = time.monotonic() - cap.last_capture_time
            assert 0.01 <= age < 0.2, f"frame stamped {age * 1000:.0f} ms ago"
            if len(got) == n:
                break
        assert time.monotonic() < deadline, "the tone never reached the capture stream"
    bed.mic.wait_idle()
    return got


async def _record_played(bed: PulseBed, play, signal: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    mon = bed.monitor(rate=48000)
    await asyncio.sleep(0.1)
    play.write(pcm(signal), rate)
    await asyncio.sleep(seconds)
    return mon.stop()


def test_bed_devices_are_listed(pulse_bed):
    devs = list_devices()
    assert any(d.default_input for d in devs) and any(d.default_output for d in devs)
    assert any("pulse" in d.name or "default" in d.name for d in devs)


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
async def test_capture_tone_arrives_at_session_rate(pulse_bed, rate):
    backend = SoundDeviceBackend()
    cap = await backend.open_capture(rate)
    assert cap is not None, backend.notice
    try:
        frames = await _tone_frames(pulse_bed, cap, 10)
        signal = from_pcm(b"".join(frames))
        assert abs(peak_hz(signal, rate) - 1000) < 30
        assert -12 < cap.level_db < -3  # a 0.5 amplitude sine is -9 dBFS
    finally:
        await backend.close()


async def test_capture_frames_are_contiguous_and_stamped(pulse_bed):
    cap = DeviceCapture(16000)
    await cap.start()
    try:
        pulse_bed.mic.play(tone(440, 16000, 1.0))
        stamps, frames = [], []
        async for frame in cap.frames():
            frames.append(frame)
            stamps.append(cap.last_capture_time)
            if len(frames) == 40:
                break
        steps = np.diff(stamps)
        assert np.allclose(steps, 0.02, atol=0.004)  # one frame apart, no gaps or repeats
        assert cap.overflows == 0
    finally:
        await cap.close()
        pulse_bed.mic.wait_idle()


@pytest.mark.parametrize("session_rate", [16000, 24000])
async def test_playback_is_found_in_the_speaker_monitor(pulse_bed, session_rate):
    backend = SoundDeviceBackend()
    play = await backend.open_playback(session_rate)
    assert play is not None, backend.notice
    try:
        rng = np.random.default_rng(1)
        burst = (rng.standard_normal(session_rate // 2) * 0.2).astype(np.float32)
        recorded = await _record_played(pulse_bed, play, burst, session_rate, 0.9)
        assert play.played_seconds == pytest.approx(0.5, abs=0.03)
        ref = np.interp(np.arange(0, burst.size, session_rate / 48000), np.arange(burst.size), burst)
        # normalised cross-correlation of what was written with what the speaker played
        from numpy.fft import irfft, rfft

        n = recorded.size + ref.size
        corr = irfft(rfft(recorded, n) * np.conj(rfft(ref, n)), n)
        lag = int(np.argmax(corr))
        seg = recorded[lag : lag + ref.size]
        score = float(np.dot(seg, ref[: seg.size]) / (np.linalg.norm(seg) * np.linalg.norm(ref[: seg.size])))
        assert score > 0.8, f"played audio not found in the monitor (score {score:.2f})"
    finally:
        await backend.close()


async def test_barge_in_silences_the_speaker_quickly(pulse_bed):
    play = DevicePlayback(24000)
    await play.start()
    mon = pulse_bed.monitor(rate=48000)
    try:
        await asyncio.sleep(0.1)
        play.write(pcm(tone(600, 24000, 3.0)), 24000)
        await asyncio.sleep(0.6)
        t_flush = time.monotonic()
        dropped = play.flush()
        played_at_flush = play.played_seconds
        await asyncio.sleep(0.5)
    finally:
        mon.stop()
        await play.close()
    assert 2.2 < dropped < 2.6
    assert play.played_seconds - played_at_flush < 0.011  # at most the block being read
    assert play.last_audible_callback - t_flush < 0.012
    # in the monitor: when did the last loud sample arrive? (read time bounds play time)
    last_loud = None
    for t_read, chunk in mon.chunks:
        if np.any(np.abs(chunk) > 0.05):
            last_loud = t_read
    assert last_loud is not None, "nothing was played"
    assert last_loud - t_flush < 0.1, f"sound went on {1000 * (last_loud - t_flush):.0f} ms after flush"


@pytest.mark.parametrize("device_rate", [44100, 48000])
async def test_rates_matrix(pulse_bed, device_rate):
    """Sessions at 8/16/24/48 kHz against devices opened at 44.1 and 48 kHz."""
    for session_rate in (8000, 16000, 24000, 48000):
        backend = SoundDeviceBackend(input_rate=device_rate, output_rate=device_rate)
        cap = await backend.open_capture(session_rate)
        play = await backend.open_playback(session_rate)
        assert cap is not None and play is not None, backend.notice
        try:
            assert cap.device_rate == device_rate and play.device_rate == device_rate
            frames = await _tone_frames(pulse_bed, cap, 5, freq=700)
            assert abs(peak_hz(from_pcm(b"".join(frames)), session_rate) - 700) < 40, session_rate
            recorded = await _record_played(pulse_bed, play, tone(1500, session_rate, 0.3), session_rate, 0.5)
            loud = recorded[np.abs(recorded) > 0.1]
            assert loud.size > 0.2 * 48000, f"{session_rate} Hz playback not heard"
            assert abs(peak_hz(recorded, 48000) - 1500) < 20
        finally:
            await backend.close()


async def test_jitter_stream_plays_without_underruns(pulse_bed):
    """1 s of 20 ms chunks, each late by 0-30 ms (network jitter), plays with no underrun.
    A run in which this test itself sent a chunk more than 15 ms later than that (the event
    loop starved on a loaded machine: not the jitter the buffer is built for) is run again,
    up to five times; one undisturbed run must be clean."""
    for _attempt in range(5):
        play = DevicePlayback(24000)
        await play.start()
        try:
            rng = np.random.default_rng(2)
            chunk = pcm(tone(300, 24000, 0.02))
            t0 = time.monotonic()
            worst = 0.0  # how much later than its jittered time a chunk went out
            for i in range(50):
                due = t0 + i * 0.02 + rng.uniform(0, 0.03)
                await asyncio.sleep(max(0, due - time.monotonic()))
                worst = max(worst, time.monotonic() - due)
                play.write(chunk, 24000)
            await play.drain(1.0)
            if worst > 0.015:
                continue
            assert play.underruns == 0
            assert play.played_seconds == pytest.approx(1.0, abs=0.03)
            return
        finally:
            await play.close()
    pytest.fail("every run was disturbed: the test could not send its chunks on time (machine overloaded)")


async def test_unknown_device_and_rate_errors(pulse_bed):
    with pytest.raises(AudioDeviceError, match="no input device matches"):
        await SoundDeviceBackend(input_device="no such mic").open_capture(16000)
    with pytest.raises(AudioDeviceError, match="no audio device with index 99"):
        await SoundDeviceBackend(output_device=99).open_playback(16000)
    with pytest.raises(AudioDeviceError, match="does not support"):
        await SoundDeviceBackend(output_rate=1).open_playback(16000)


async def test_playback_tap_and_device_loss(pulse_bed):
    play = DevicePlayback(16000)
    await play.start()
    assert isinstance(play, TappablePlayback) and isinstance(play, MonitoredStream)
    heard: list[tuple[int, float]] = []
    play.add_tap(lambda data, rate, t: heard.append((len(data) // 2, t)))
    try:
        play.write(pcm(tone(440, 16000, 0.3)), 16000)
        await play.drain(2.0)
        await asyncio.sleep(0.05)
        assert sum(n for n, _ in heard) / play.device_rate == pytest.approx(0.3, abs=0.03)
        assert all(abs(t - time.monotonic()) < 2 for _, t in heard)
        # the device goes away under the stream: no exception, a notice, writes ignored
        play._on_finished()
        await asyncio.sleep(0.01)
        assert play.failed and "speaker lost" in (play.notice or "")
        play.write(pcm(tone(440, 16000, 0.1)), 16000)
        assert play.buffered_seconds == 0
    finally:
        await play.close()


async def test_capture_device_loss_raises_once_with_notice(pulse_bed):
    cap = DeviceCapture(16000, stall_check_s=0.2)
    await cap.start()
    try:
        cap._stream.abort()  # the stream stops under us, as when a device is unplugged
        with pytest.raises(AudioDeviceError, match="microphone lost"):
            async for _ in cap.frames():
                pass
        assert cap.failed
    finally:
        await cap.close()


def test_the_bed_stands_in_for_hardware_ahead_of_the_suite(pulse_bed):
    """The sound server runs in a session of its own, raised, and the microphone's feeder
    in the real-time class: a loaded suite (its own workers' batch work) must not make a
    sound card late. Where raising is not allowed (no CAP_SYS_NICE), the defaults stay."""
    daemon = pulse_bed.proc.pid
    assert os.getsid(daemon) == daemon  # its own session: its own CPU share
    raised = can_raise()
    assert os.sched_getscheduler(pulse_bed.mic.thread_id) == (os.SCHED_RR if raised else os.SCHED_OTHER)
    autogroup = Path(f"/proc/{daemon}/autogroup")
    if autogroup.exists():  # Linux built with autogroup: the session's share is raised
        assert autogroup.read_text().split()[-1] == str(SESSION_NICE if raised else 0), autogroup.read_text()


async def test_the_streams_audio_threads_run_in_real_time_where_allowed(pulse_bed):
    """Each stream's callback thread and the sound server client's thread that carries its
    samples (libpulse's ``threaded-ml``) run in the real-time class where allowed, so a busy
    machine does not underflow the speaker; elsewhere they keep the normal class."""
    before = server_client_threads()
    play, cap = DevicePlayback(24000), DeviceCapture(16000)
    await play.start()
    await cap.start()
    try:
        deadline = time.monotonic() + 5
        while None in (play.callback_thread.realtime, cap.callback_thread.realtime):
            assert time.monotonic() < deadline, "the streams never called back"
            await asyncio.sleep(0.01)
        wanted = os.SCHED_RR if can_raise() else os.SCHED_OTHER
        carriers = server_client_threads() - before
        assert carriers, "no sound server client thread was started for the streams"
        for tid in [play.callback_thread.native_id, cap.callback_thread.native_id, *carriers]:
            assert os.sched_getscheduler(tid) == wanted, tid
    finally:
        await play.close()
        await cap.close()
