"""A scripted audio backend for headless runs (``voicecli smoke``) and UI tests.

The microphone plays queued WAV clips on demand, in real time, and sends silence
between them (as a real, quiet microphone would); the speaker keeps everything the
agent said, resampled to one rate, and can save it as a WAV file.

``speed`` runs both on a faster clock (tests that do not measure timing): the microphone
sends its 20 ms frames ``speed`` times faster and the speaker plays ``speed`` times faster,
so clips, silences, flushes and drains keep their proportions. ``realtime=False`` sends the
microphone's frames as fast as the loop takes them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator

from voicecli.audio.base import FRAME_MS, frame_bytes
from voicecli.audio.resample import resample_pcm16
from voicecli.pcm.levels import SILENCE_DB, rms_db


class ScriptedCapture:
    """A microphone that says the queued clips, paced in real time."""

    def __init__(self, rate: int, frame_ms: int = FRAME_MS, realtime: bool = True, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.rate = rate
        self.frame_ms = frame_ms
        self.realtime = realtime
        self.speed = speed
        self._frame = frame_bytes(rate, frame_ms)
        self._pending: deque[bytes] = deque()
        self._clip_done: asyncio.Event = asyncio.Event()
        self._clip_done.set()
        self._closed = False
        self._last_capture = 0.0
        self._level = -100.0
        self.finished = True

    def say(self, pcm: bytes) -> asyncio.Event:
        """Queue a clip (PCM16 mono at ``rate``); the event is set when it has been sent."""
        pad = (-len(pcm)) % self._frame
        pcm = pcm + bytes(pad)
        for i in range(0, len(pcm), self._frame):
            self._pending.append(pcm[i:i + self._frame])
        self._clip_done = asyncio.Event()
        self.finished = False
        return self._clip_done

    async def frames(self) -> AsyncIterator[bytes]:
        silence = bytes(self._frame)
        step = self.frame_ms / 1000 / self.speed
        next_at = time.monotonic()
        while not self._closed:
            if self.realtime:
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += step
            else:
                await asyncio.sleep(0)
            self._last_capture = time.monotonic() - step
            if self._pending:
                frame = self._pending.popleft()
                if not self._pending:
                    self.finished = True
                    self._clip_done.set()
            else:
                frame = silence
            self._level = rms_db(frame)
            yield frame

    @property
    def last_capture_time(self) -> float:
        return self._last_capture

    @property
    def level_db(self) -> float:
        return self._level

    async def close(self) -> None:
        self._closed = True


class CollectingPlayback:
    """A speaker that keeps what it is given and "plays" it on a real-time timeline,
    so that flushes, played time and buffered time behave as on a device."""

    def __init__(self, rate: int, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.rate = rate
        self.speed = speed
        self._pcm = bytearray()
        self._play_end = 0.0  # the timeline's time at which the queued audio finishes
        self._level = SILENCE_DB

    def _now(self) -> float:
        """The playback timeline (seconds of audio): monotonic time, ``speed`` times faster."""
        return time.monotonic() * self.speed

    def write(self, pcm: bytes, rate: int | None = None) -> None:
        if rate is not None and rate != self.rate:
            pcm = resample_pcm16(pcm, rate, self.rate)
        now = self._now()
        self._play_end = max(now, self._play_end) + len(pcm) / 2 / self.rate
        self._pcm += pcm
        self._level = rms_db(pcm)

    def flush(self) -> float:
        dropped = self.buffered_seconds
        if dropped > 0:
            cut = int(dropped * self.rate) * 2
            del self._pcm[max(0, len(self._pcm) - cut):]
        self._play_end = self._now()
        return dropped

    @property
    def played_seconds(self) -> float:
        return max(0.0, len(self._pcm) / 2 / self.rate - self.buffered_seconds)

    @property
    def buffered_seconds(self) -> float:
        return max(0.0, self._play_end - self._now())

    @property
    def level_db(self) -> float:
        return self._level if self.buffered_seconds > 0 else SILENCE_DB

    async def drain(self, timeout: float) -> None:
        await asyncio.sleep(max(0.0, min(timeout, self.buffered_seconds / self.speed)))

    def pcm(self) -> bytes:
        return bytes(self._pcm)

    async def close(self) -> None:
        return None


class ScriptedBackend:
    """Backend for smoke runs: a scripted microphone and a collecting speaker."""

    name = "file"
    notice: str | None = None

    def __init__(self, realtime: bool = True, speed: float = 1.0) -> None:
        self.realtime = realtime
        self.speed = speed
        self.capture: ScriptedCapture | None = None
        self.playback: CollectingPlayback | None = None

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> ScriptedCapture:
        self.capture = ScriptedCapture(rate, frame_ms, self.realtime, self.speed)
        return self.capture

    async def open_playback(self, rate: int) -> CollectingPlayback:
        self.playback = CollectingPlayback(rate, self.speed)
        return self.playback

    async def close(self) -> None:
        return None
