"""Scripted audio for load sessions, made cheap per session.

- :class:`LoadCapture`: the scenario's microphone, paced by the run's shared
  :class:`~voicecli.load.clock.FrameClock` (no timer of its own). Each frame's lateness (the
  time it is handed to the session's socket write minus its scheduled time) goes into the
  run's ``lateness_ms``. It computes no level, and finds where a clip's speech ends once per
  clip (``speech_end``: the session marks the end of the user's turn there, as its VAD would).
- :class:`WireFrames`: the wire frames of each audio chunk, encoded once per dialect and
  reused by every session (the session's lean microphone, ``SessionOptions.lean_mic``).
- a speaker that keeps no audio, only the timeline a device would play (seconds from sizes).
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections import deque
from collections.abc import AsyncIterator, Callable

import numpy as np

from voicecli.audio.base import FRAME_MS, frame_bytes
from voicecli.audio.scripted import ScriptedBackend, ScriptedCapture
from voicecli.load.clock import FrameClock
from voicecli.pcm.levels import SILENCE_DB
from voicecli.protocol.base import Adapter, Frame
from voicecli.protocol.commands import SendAudio

SPEECH_DB = -40.0  # a frame this loud is speech (the session's VAD threshold)
PURE_AUDIO = frozenset({"atoms"})  # dialects whose audio message depends on the chunk alone
MAX_CACHED = 50_000  # chunks (about 16 minutes of distinct audio)


def last_voiced_frame(pcm: bytes, frame: int, threshold_db: float = SPEECH_DB) -> int:
    """Index of the last ``frame``-byte frame of ``pcm`` at or above ``threshold_db`` RMS (-1: none)."""
    usable = len(pcm) - len(pcm) % frame
    if usable == 0:
        return -1
    samples = np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64).reshape(-1, frame // 2) / 32768.0
    limit = 10 ** (threshold_db / 10)
    voiced = np.flatnonzero((samples * samples).mean(axis=1) >= limit)
    return int(voiced[-1]) if voiced.size else -1


class LoadCapture(ScriptedCapture):
    """A microphone that says the queued clips on the shared clock's ticks."""

    def __init__(self, rate: int, frame_ms: int, clock: FrameClock, lateness_ms: array[float]) -> None:
        super().__init__(rate, frame_ms, realtime=True)
        self.clock = clock
        self._lateness = lateness_ms
        self._queue: deque[bytes] = deque()
        self._voiced_left = -1  # frames of the queued clip until its last voiced one
        self.speech_end: float | None = None  # when the last clip's speech ended (being sent)
        self._silence = bytes(frame_bytes(rate, frame_ms))

    def say(self, pcm: bytes) -> asyncio.Event:
        size = len(self._silence)
        pcm = pcm + bytes((-len(pcm)) % size)
        last = last_voiced_frame(pcm, size)
        self._voiced_left = len(self._queue) + last if last >= 0 else -1
        self._queue.extend(pcm[i:i + size] for i in range(0, len(pcm), size))
        self.speech_end = None
        self._clip_done = asyncio.Event()
        self.finished = not self._queue
        if self.finished:
            self._clip_done.set()
        return self._clip_done

    async def frames(self) -> AsyncIterator[bytes]:
        pacer = self.clock.join()
        step = self.frame_ms / 1000
        now = self.clock.now
        try:
            while not self._closed:
                scheduled = await pacer.next()
                sent = now()
                self._lateness.append((sent - scheduled) * 1000)
                self._last_capture = scheduled
                if not self._queue:
                    yield self._silence
                    continue
                frame = self._queue.popleft()
                if self._voiced_left == 0:
                    self.speech_end = sent + step
                self._voiced_left -= 1
                if not self._queue:
                    self.finished = True
                    self._clip_done.set()
                yield frame
        finally:
            pacer.close()

    @property
    def level_db(self) -> float:
        return SILENCE_DB


class WireFrames:
    """``(adapter, chunk) -> wire frames``: each chunk encoded once per dialect where the
    dialect's audio message depends on the chunk alone (:data:`PURE_AUDIO`), else by the
    session's adapter every time."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes], list[Frame]] = {}
        self.encoded = 0  # chunks encoded (cache misses and dialects not cached)

    def __call__(self, adapter: Adapter, chunk: bytes) -> list[Frame]:
        if adapter.name not in PURE_AUDIO:
            self.encoded += 1
            return adapter.encode(SendAudio(chunk))
        key = (adapter.name, chunk)
        frames = self._cache.get(key)
        if frames is None:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self.encoded += 1
            frames = self._cache[key] = adapter.encode(SendAudio(chunk))
        return frames


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
    """One load session's audio: its microphone on the run's ``clock``, frame lateness into
    the shared ``lateness_ms``; ``lean_mic`` is what the session's lean microphone encodes with."""

    def __init__(self, clock: FrameClock, lateness_ms: array[float], wire: WireFrames) -> None:
        super().__init__(realtime=True)
        self.clock = clock
        self._lateness = lateness_ms
        self.lean_mic: Callable[[Adapter, bytes], list[Frame]] = wire

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> ScriptedCapture:
        self.capture = LoadCapture(rate, frame_ms, self.clock, self._lateness)
        return self.capture

    async def open_playback(self, rate: int) -> _Speaker:  # type: ignore[override]
        speaker = _Speaker(rate)
        self.playback = speaker  # type: ignore[assignment]
        return speaker
