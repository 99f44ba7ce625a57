"""WAV files standing in for the microphone and the speaker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np

from voicecli.audio.base import FRAME_MS, PlaybackTap
from voicecli.audio.resample import StreamResampler
from voicecli.audio.wav import IncrementalWavWriter, read_wav_mono
from voicecli.pcm.convert import float_to_pcm16, pcm16_to_float
from voicecli.pcm.levels import SILENCE_DB, float_rms_db, rms_db


class FileCapture:
    """Plays WAV files (any rate and channel count) as the microphone, then silence.

    ``realtime`` paces frames at the speed of a real microphone; otherwise the files are
    delivered as fast as the consumer takes them. After the last real sample ``finished``
    turns True and silence frames follow, paced in real time.
    """

    def __init__(
        self, paths: Sequence[str | Path], rate: int, frame_ms: int = FRAME_MS, realtime: bool = True
    ) -> None:
        self.rate = rate
        self.frame_ms = frame_ms
        self.realtime = realtime
        self.frame_samples = rate * frame_ms // 1000
        parts = [read_wav_mono(p, rate)[0] for p in paths]
        audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        pad = (-audio.size) % self.frame_samples
        self._pcm = float_to_pcm16(np.concatenate((audio, np.zeros(pad, dtype=np.float32))))
        self.total_frames = len(self._pcm) // (2 * self.frame_samples)
        self._finished = self.total_frames == 0
        self._closed = False
        self._last_capture_time = 0.0
        self._level_db = SILENCE_DB
        self.frames_delivered = 0

    async def frames(self) -> AsyncIterator[bytes]:
        frame_s = self.frame_ms / 1000
        nbytes = 2 * self.frame_samples
        silence = bytes(nbytes)
        t0 = time.monotonic()
        i = 0
        while not self._closed:
            real = i < self.total_frames
            if real:
                frame = self._pcm[i * nbytes : (i + 1) * nbytes]
                if i == self.total_frames - 1:
                    self._finished = True
            else:
                frame = silence
                self._finished = True
            if self.realtime or not real:
                if not self.realtime and i == self.total_frames:
                    t0 = time.monotonic() - i * frame_s  # real-time pacing starts now
                ready = t0 + (i + 1) * frame_s
                delay = ready - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._last_capture_time = t0 + i * frame_s
            else:
                await asyncio.sleep(0)
                self._last_capture_time = time.monotonic() - frame_s
            if self._closed:
                return
            self._level_db = rms_db(frame)
            self.frames_delivered += 1
            i += 1
            yield frame

    @property
    def last_capture_time(self) -> float:
        return self._last_capture_time

    @property
    def level_db(self) -> float:
        return self._level_db

    @property
    def finished(self) -> bool:
        return self._finished

    async def close(self) -> None:
        self._closed = True


class FilePlayback:
    """A speaker that writes what it plays to a WAV file (or nowhere), at ``rate``.

    ``realtime`` plays on a simulated clock (10 ms ticks), so ``flush``, ``drain`` and
    ``played_seconds`` behave as with a device; otherwise everything written counts as
    played at once. The file holds the played audio back to back (no idle gaps).
    """

    def __init__(self, rate: int, sink: str | Path | None = None, realtime: bool = True) -> None:
        self.rate = rate
        self.realtime = realtime
        self._writer = IncrementalWavWriter(sink, rate) if sink is not None else None
        self._pending = np.zeros(0, dtype=np.float32)
        self._resampler: StreamResampler | None = None
        self._clock = 0.0
        self._played = 0
        self._level_db = SILENCE_DB
        self._taps: list[PlaybackTap] = []
        self._task: asyncio.Task[None] | None = None
        self._last_sync = time.monotonic()
        self._last_write: float | None = None
        self._closed = False

    async def start(self) -> None:
        if self.realtime:
            self._task = asyncio.create_task(self._ticker(), name="file-playback")

    async def _ticker(self) -> None:
        while not self._closed:
            self._advance(time.monotonic())
            await asyncio.sleep(0.01)

    def write(self, pcm: bytes, rate: int | None = None) -> None:
        if self._closed or not pcm:
            return
        src = rate or self.rate
        if self._resampler is None or self._resampler.in_rate != src:
            self._push_tail()
            self._resampler = StreamResampler(src, self.rate)
        samples = self._resampler.process(pcm16_to_float(pcm))
        now = time.monotonic()
        self._last_write = now
        self._queue(samples, now)

    def _push_tail(self) -> None:
        """Bring out what the resampler still holds (end of an utterance, rate change)."""
        if self._resampler is not None and not self._resampler.passthrough:
            self._queue(self._resampler.push_out_tail(), time.monotonic())
        self._last_write = None

    def _queue(self, samples: np.ndarray, now: float) -> None:  # type: ignore[type-arg]
        if samples.size == 0:
            return
        if self.realtime:
            if self._pending.size == 0:
                self._clock = max(self._clock, now)
            self._pending = np.concatenate((self._pending, samples))
        else:
            self._play(samples, now)

    def _advance(self, now: float) -> None:
        if self._last_write is not None and now - self._last_write >= 0.05:
            self._push_tail()
        if self._pending.size == 0:
            self._level_db = SILENCE_DB
        else:
            due = int((now - self._clock) * self.rate)
            n = min(max(due, 0), int(self._pending.size))
            if n > 0:
                chunk, self._pending = self._pending[:n], self._pending[n:]
                t = self._clock
                self._clock += n / self.rate
                self._play(chunk, t)
        if self._writer is not None and now - self._last_sync >= 0.5:
            self._writer.sync()
            self._last_sync = now

    def _play(self, samples: np.ndarray, t: float) -> None:  # type: ignore[type-arg]
        self._played += int(samples.size)
        self._level_db = float_rms_db(samples)
        if self._writer is not None:
            self._writer.write(samples)
        if self._taps:
            pcm = float_to_pcm16(samples)
            for tap in list(self._taps):
                tap(pcm, self.rate, t)

    def flush(self) -> float:
        self._advance(time.monotonic())
        dropped = int(self._pending.size)
        self._pending = np.zeros(0, dtype=np.float32)
        if self._resampler is not None:
            self._resampler.reset()
        self._last_write = None
        return dropped / self.rate

    async def drain(self, timeout: float) -> None:
        if not self.realtime:
            self._push_tail()
            return
        deadline = time.monotonic() + timeout
        while (self._pending.size or self._last_write is not None) and not self._closed:
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(0.01)

    def add_tap(self, tap: PlaybackTap) -> None:
        self._taps.append(tap)

    def remove_tap(self, tap: PlaybackTap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    @property
    def played_seconds(self) -> float:
        return self._played / self.rate

    @property
    def buffered_seconds(self) -> float:
        return self._pending.size / self.rate

    @property
    def level_db(self) -> float:
        return self._level_db

    @property
    def audible(self) -> bool:
        return self._pending.size > 0

    @property
    def failed(self) -> bool:
        return False

    @property
    def notice(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._closed:
            return
        self._push_tail()
        if self.realtime:
            self._advance(time.monotonic())
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
