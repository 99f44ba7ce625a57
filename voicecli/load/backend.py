"""Scripted audio for load sessions: the scenario's microphone, paced in real time, which
measures how late each frame is handed to the session (against the ideal 20 ms grid from
its first frame) and, when behind, yields to the other sessions between frames; and a
speaker that keeps no audio, only the timeline a device would play.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import AsyncIterator

from voicecli.audio.base import FRAME_MS
from voicecli.audio.scripted import ScriptedBackend, ScriptedCapture
from voicecli.pcm.levels import SILENCE_DB


class _TimedCapture(ScriptedCapture):
    def __init__(self, rate: int, frame_ms: int, lateness_ms: array[float]) -> None:
        super().__init__(rate, frame_ms, realtime=True)
        self._lateness = lateness_ms

    async def frames(self) -> AsyncIterator[bytes]:
        step = self.frame_ms / 1000
        start: float | None = None
        sent = 0
        async for frame in super().frames():
            now = time.monotonic()
            if start is None:
                start = now
            late = now - (start + sent * step)
            self._lateness.append(max(0.0, late * 1000))
            sent += 1
            yield frame
            if late > step:
                # catching up: the scripted microphone sends late frames without waiting, so
                # let the other sessions (and their timers) run between them
                await asyncio.sleep(0)


class _Speaker:
    """A speaker that "plays" on a real-time timeline and keeps nothing."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.received_s = 0.0
        self._play_end = 0.0

    def write(self, pcm: bytes, rate: int | None = None) -> None:
        seconds = len(pcm) / 2 / (rate or self.rate)
        self.received_s += seconds
        self._play_end = max(time.monotonic(), self._play_end) + seconds

    def flush(self) -> float:
        dropped = self.buffered_seconds
        self._play_end = time.monotonic()
        return dropped

    @property
    def buffered_seconds(self) -> float:
        return max(0.0, self._play_end - time.monotonic())

    @property
    def played_seconds(self) -> float:
        return max(0.0, self.received_s - self.buffered_seconds)

    @property
    def level_db(self) -> float:
        return SILENCE_DB

    def pcm(self) -> bytes:
        return b""

    async def drain(self, timeout: float) -> None:
        return None

    async def close(self) -> None:
        return None


class LoadBackend(ScriptedBackend):
    """One load session's audio; frame lateness goes into the shared ``lateness_ms``."""

    def __init__(self, lateness_ms: array[float]) -> None:
        super().__init__(realtime=True)
        self._lateness = lateness_ms

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> ScriptedCapture:
        self.capture = _TimedCapture(rate, frame_ms, self._lateness)
        return self.capture

    async def open_playback(self, rate: int) -> _Speaker:  # type: ignore[override]
        speaker = _Speaker(rate)
        self.playback = speaker  # type: ignore[assignment]
        return speaker
