"""Minimal clients for the audio benchmarks' floors: the least a client can do on the same
sound server, measured the same way as voicecli in the same run.

- ``MinimalCapture``: a 16 kHz mono int16 input stream with 10 ms blocks that hands each
  20 ms frame to the event loop as soon as it is whole (the sound server resamples);
- ``MinimalPlayback``: a 10 ms output callback that plays queued 24 kHz samples and
  empties its queue on ``flush`` (the TESTBED's barge-in floor).

Their callback threads ask for real-time scheduling as voicecli's do
(:mod:`voicecli.audio.realtime`), so that both are timed under the same conditions.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from voicecli.audio.devices import load_sounddevice, quiet_stderr
from voicecli.audio.realtime import CallbackThread


def _sd() -> Any:
    sd = load_sounddevice()
    if sd is None:
        raise RuntimeError("sounddevice is not available")
    return sd


class MinimalCapture:
    def __init__(self, rate: int = 16000, frame_ms: int = 20, block_ms: int = 10) -> None:
        self.rate = rate
        self._frame_bytes = rate * frame_ms // 1000 * 2
        self._block = rate * block_ms // 1000
        self._acc = bytearray()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.callback_thread = CallbackThread()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        with quiet_stderr():
            self._stream = _sd().RawInputStream(samplerate=self.rate, channels=1, dtype="int16",
                                                blocksize=self._block, latency="low", callback=self._callback)
            self._stream.start()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callback_thread.on_callback()
        self._acc += bytes(indata)
        while len(self._acc) >= self._frame_bytes:
            frame = bytes(self._acc[: self._frame_bytes])
            del self._acc[: self._frame_bytes]
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._queue.put_nowait, frame)

    async def frames(self) -> AsyncIterator[bytes]:
        while self._stream is not None:
            yield await self._queue.get()

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with quiet_stderr():
                stream.abort()
                stream.close()


class MinimalPlayback:
    def __init__(self, rate: int = 24000, block_ms: int = 10) -> None:
        self.rate = rate
        self._block = rate * block_ms // 1000
        self._chunks: deque[np.ndarray] = deque()
        self._lock = threading.Lock()
        self._stream: Any = None
        self.callback_thread = CallbackThread()

    async def start(self) -> None:
        with quiet_stderr():
            self._stream = _sd().OutputStream(samplerate=self.rate, channels=1, dtype="float32",
                                              blocksize=self._block, latency="low", callback=self._callback)
            self._stream.start()

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callback_thread.on_callback()
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._chunks:
                head = self._chunks[0]
                take = min(frames - filled, head.size)
                out[filled : filled + take] = head[:take]
                filled += take
                if take == head.size:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = head[take:]
        out[filled:] = 0.0

    def write(self, pcm: bytes, rate: int | None = None) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        with self._lock:
            self._chunks.append(samples)

    def flush(self) -> float:
        with self._lock:
            self._chunks.clear()
        return 0.0

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with quiet_stderr():
                stream.abort()
                stream.close()
