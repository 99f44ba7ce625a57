import asyncio
import time
import wave

import numpy as np
import pytest

from tests.audio.conftest import from_pcm, pcm, peak_hz, tone
from tests.support.waiting import eventually
from voicecli.audio.backends import FileBackend
from voicecli.audio.base import CaptureStream, PlaybackStream, frame_bytes
from voicecli.audio.filestreams import FileCapture, FilePlayback
from voicecli.audio.wav import IncrementalWavWriter, read_wav, read_wav_mono, write_wav
from voicecli.errors import UsageError


def _stereo_wav(path, rate, seconds, freq):
    left = tone(freq, rate, seconds)
    data = np.column_stack((left, left)).reshape(-1)
    write_wav(path, pcm(data), rate, channels=2)


def test_wav_round_trip_and_downmix(tmp_path):
    _stereo_wav(tmp_path / "a.wav", 44100, 0.5, 1000)
    data, rate = read_wav(tmp_path / "a.wav")
    assert data.shape == (22050, 2) and rate == 44100
    mono, r = read_wav_mono(tmp_path / "a.wav", 16000)
    assert r == 16000 and abs(mono.size - 8000) <= 1
    assert abs(peak_hz(mono, 16000) - 1000) < 5


def test_missing_or_bad_wav_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        read_wav(tmp_path / "nope.wav")
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(UsageError):
        read_wav(tmp_path / "bad.wav")


async def test_file_capture_resamples_and_paces_in_real_time(tmp_path):
    _stereo_wav(tmp_path / "a.wav", 44100, 0.3, 1000)
    cap = FileCapture([tmp_path / "a.wav"], rate=16000, realtime=True)
    assert isinstance(cap, CaptureStream)
    frames = []
    t0 = time.monotonic()
    async for f in cap.frames():
        frames.append(f)
        if cap.finished:
            break
    elapsed = time.monotonic() - t0
    assert len(frames) == 15 and all(len(f) == frame_bytes(16000) for f in frames)
    # 300 ms of audio takes 300 ms: never less; more only as much as a loaded machine lags
    assert 0.27 <= elapsed <= 2.0
    assert abs(peak_hz(from_pcm(b"".join(frames)), 16000) - 1000) < 5
    assert t0 + 0.25 <= cap.last_capture_time <= t0 + elapsed  # the last frame's capture time
    await cap.close()


async def test_file_capture_fast_mode_then_silence(tmp_path):
    write_wav(tmp_path / "a.wav", pcm(tone(500, 8000, 1.0)), 8000)
    write_wav(tmp_path / "b.wav", pcm(tone(900, 24000, 1.0)), 24000)
    cap = FileCapture([tmp_path / "a.wav", tmp_path / "b.wav"], rate=24000, realtime=False)
    got = []
    t0 = time.monotonic()
    async for f in cap.frames():
        got.append((f, cap.finished))
        if len(got) == 103:
            break
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0  # 2 s of files much faster than real time; then 3 paced silence frames
    audio = from_pcm(b"".join(f for f, _ in got[:100]))
    assert abs(peak_hz(audio[:24000], 24000) - 500) < 5
    assert abs(peak_hz(audio[24000:], 24000) - 900) < 5
    assert [fin for _, fin in got[98:]] == [False, True, True, True, True]
    assert all(f == bytes(len(f)) for f, _ in got[100:])
    assert cap.level_db == -100.0
    await cap.close()


async def test_file_playback_realtime_flush_and_sink(tmp_path):
    sink = tmp_path / "out.wav"
    play = FilePlayback(16000, sink, realtime=True)
    await play.start()
    assert isinstance(play, PlaybackStream)
    started = time.monotonic()
    play.write(pcm(tone(440, 24000, 1.0)), 24000)
    await eventually(lambda: play.played_seconds >= 0.2, "a fifth of the second to play")
    assert play.level_db > -10
    dropped = play.flush()
    elapsed = time.monotonic() - started
    played = play.played_seconds
    # played on the clock (not at once), and the flush dropped the rest: nothing lost or doubled
    assert 0.2 <= played <= elapsed + 0.02 and dropped > 0
    assert played + dropped == pytest.approx(1.0, abs=0.02)
    assert play.buffered_seconds == 0
    await asyncio.sleep(0.1)  # ten ticks of the playback clock
    assert play.played_seconds == played  # nothing plays after a flush
    await play.close()
    out, rate = read_wav_mono(sink)
    assert rate == 16000 and abs(out.size / rate - played) < 0.03
    assert abs(peak_hz(out, rate) - 440) < 5


async def test_file_playback_drain_waits_for_the_audio(tmp_path):
    play = FilePlayback(16000, None, realtime=True)
    await play.start()
    t0 = time.monotonic()
    play.write(pcm(tone(440, 16000, 0.2)))
    await play.drain(10.0)  # returns once played, well before its timeout
    assert 0.15 < time.monotonic() - t0 < 9.0
    assert play.played_seconds == pytest.approx(0.2, abs=0.01) and play.buffered_seconds == 0
    await play.close()


async def test_file_backend(tmp_path):
    write_wav(tmp_path / "in.wav", pcm(tone(440, 16000, 0.1)), 16000)
    backend = FileBackend([tmp_path / "in.wav"], tmp_path / "out.wav", realtime=False)
    cap = await backend.open_capture(16000)
    play = await backend.open_playback(24000)
    assert cap is not None and play is not None
    async for f in cap.frames():
        play.write(f, 16000)
        if cap.finished:
            break
    await backend.close()
    out, rate = read_wav_mono(tmp_path / "out.wav")
    assert rate == 24000 and abs(out.size - 2400) <= 2
    assert await FileBackend(None, None).open_capture(16000) is None


def test_incremental_writer_keeps_a_valid_file_while_open(tmp_path):
    w = IncrementalWavWriter(tmp_path / "x.wav", 8000, channels=2)
    w.write(np.zeros((800, 2), dtype=np.float32))
    w.sync()
    with wave.open(str(tmp_path / "x.wav")) as f:  # readable before close
        assert f.getnframes() == 800 and f.getnchannels() == 2
    w.write(np.zeros((400, 2), dtype=np.float32))
    w.close()
    with wave.open(str(tmp_path / "x.wav")) as f:
        assert f.getnframes() == 1200
