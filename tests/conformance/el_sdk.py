"""Helpers for driving the official ``elevenlabs`` python SDK against the local agent.

The SDK is synchronous (a thread per conversation); the agent runs on the test's event
loop, so tests wait for SDK callbacks with :meth:`Seen.wait` off the loop.
"""

from __future__ import annotations

import asyncio
import math
import struct
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from elevenlabs.conversational_ai.conversation import AudioInterface

from tests.protocol import schemas
from tests.protocol.tapped import TappedFrames

CHUNK_SAMPLES = 4000  # what the SDK recommends: 250 ms at 16 kHz


class Tap(TappedFrames):
    """Every data frame of the agent's sessions, both ways; the messages read back are
    validated against the vendor spec."""

    def messages(self, side: str) -> list[dict[str, Any]]:
        """The ``side`` ("client" | "server") messages, each validated against the vendor
        spec: the vendor schema as published for what the SDK sends, closed (misspelt
        fields fail) for what the agent sends."""
        assert self.frames, "no frames were seen"
        return [schemas.validate("elevenlabs", frame, side=side, strict=side == "server", from_spec=True)
                for dialect, s, frame in self.frames if s == side and dialect == "elevenlabs"]

    def types(self, side: str) -> list[str]:
        return self.kinds(side)


class Seen:
    """Values an SDK callback delivered (from the SDK's thread)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, *value: Any) -> None:
        with self._cond:
            self.values.append(value[0] if len(value) == 1 else value)
            self._cond.notify_all()

    async def wait(self, predicate: Callable[[Any], bool] = lambda v: True, timeout: float = 15.0) -> Any:
        def block() -> Any:
            deadline = time.monotonic() + timeout
            with self._cond:
                while True:
                    found = next((v for v in self.values if predicate(v)), None)
                    if found is not None:
                        return found
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise AssertionError(f"not seen in {timeout}s; seen: {self.values}")
                    self._cond.wait(left)

        return await asyncio.to_thread(block)


class WavAudio(AudioInterface):
    """An SDK audio interface that plays a 16 kHz mono WAV file as the microphone (in
    ``CHUNK_SAMPLES`` chunks, a little faster than real time) and keeps the agent's audio."""

    def __init__(self, wav: Path, pace_s: float = 0.05) -> None:
        self.wav = wav
        self.pace_s = pace_s
        self.output_audio = bytearray()
        self.interruptions = 0
        self.fed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, input_callback: Callable[[bytes], None]) -> None:
        with wave.open(str(self.wav), "rb") as f:
            assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (16000, 1, 2)
            pcm = f.readframes(f.getnframes())

        def feed() -> None:
            for offset in range(0, len(pcm), CHUNK_SAMPLES * 2):
                if self._stop.wait(self.pace_s):
                    return
                input_callback(pcm[offset:offset + CHUNK_SAMPLES * 2])
            self.fed.set()

        self._thread = threading.Thread(target=feed, name="wav-mic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def output(self, audio: bytes) -> None:
        self.output_audio += audio

    def interrupt(self) -> None:
        self.interruptions += 1


def write_wav(path: Path, pcm: bytes, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm)
    return path


def tone(ms: int, rate: int = 16000, freq: float = 440.0, amplitude: float = 0.3) -> bytes:
    n = rate * ms // 1000
    return struct.pack(f"<{n}h", *(int(amplitude * 32767 * math.sin(2 * math.pi * freq * i / rate))
                                   for i in range(n)))
