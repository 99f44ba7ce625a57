"""Keeping a conversation: what the scripted microphone sent and what the agent sent, on
one timeline, saved as a stereo WAV (left: the user, right: the agent) beside the run's
JSON report (``result.json``: transcripts, per-turn figures; what ``voicecli replay``
re-scores).

Microphone frames are kept in the order sent (the scripted microphone sends silence
between clips, so its channel is continuous); each piece of agent audio is placed at the
time it arrived, or right after the piece before it when that one is still playing, as a
speaker would play it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from voicecli.audio.base import FRAME_MS
from voicecli.audio.resample import resample_pcm16
from voicecli.audio.scripted import CollectingPlayback, ScriptedBackend, ScriptedCapture
from voicecli.audio.wav import write_wav
from voicecli.secrets import redact

WAV_NAME = "conversation.wav"
RESULT_NAME = "result.json"


class _RecordingCapture(ScriptedCapture):
    def __init__(self, rate: int, frame_ms: int, realtime: bool, start: float) -> None:
        super().__init__(rate, frame_ms, realtime)
        self.start = start
        self.first_at: float | None = None
        self.sent = bytearray()

    async def frames(self) -> AsyncIterator[bytes]:
        async for frame in super().frames():
            if self.first_at is None:
                self.first_at = time.monotonic()
            self.sent += frame
            yield frame


class _RecordingPlayback(CollectingPlayback):
    def __init__(self, rate: int) -> None:
        super().__init__(rate)
        self.pieces: list[tuple[float, bytes]] = []

    def write(self, pcm: bytes, rate: int | None = None) -> None:
        if rate is not None and rate != self.rate:
            pcm = resample_pcm16(pcm, rate, self.rate)
        self.pieces.append((time.monotonic(), pcm))
        super().write(pcm)


class RecordingBackend(ScriptedBackend):
    """A :class:`ScriptedBackend` that keeps both directions for :meth:`stereo`."""

    def __init__(self, realtime: bool = True) -> None:
        super().__init__(realtime)
        self.start = time.monotonic()

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> ScriptedCapture:
        self.capture = _RecordingCapture(rate, frame_ms, self.realtime, self.start)
        return self.capture

    async def open_playback(self, rate: int) -> CollectingPlayback:
        self.playback = _RecordingPlayback(rate)
        return self.playback

    def stereo(self) -> tuple[bytes, int]:
        """Interleaved PCM16 stereo (user, agent) at the microphone's rate (the agent's when
        the session had no microphone)."""
        capture = self.capture if isinstance(self.capture, _RecordingCapture) else None
        playback = self.playback if isinstance(self.playback, _RecordingPlayback) else None
        rate = capture.rate if capture is not None else playback.rate if playback is not None else 16000
        t0 = capture.first_at if capture is not None and capture.first_at is not None else self.start
        user = np.frombuffer(bytes(capture.sent), dtype="<i2") if capture is not None else np.zeros(0, "<i2")
        agent = np.zeros(0, dtype="<i2")
        if playback is not None:
            parts: list[tuple[int, np.ndarray[Any, Any]]] = []
            cursor = 0
            for at, pcm in playback.pieces:
                if playback.rate != rate:
                    pcm = resample_pcm16(pcm, playback.rate, rate)
                samples = np.frombuffer(pcm, dtype="<i2")
                begin = max(cursor, int(max(0.0, at - t0) * rate))
                parts.append((begin, samples))
                cursor = begin + samples.size
            agent = np.zeros(cursor, dtype="<i2")
            for begin, samples in parts:
                agent[begin: begin + samples.size] = samples
        length = max(user.size, agent.size)
        both = np.zeros((length, 2), dtype="<i2")
        both[: user.size, 0] = user
        both[: agent.size, 1] = agent
        return both.tobytes(), rate


def save(folder: Path, backend: RecordingBackend, result: dict[str, Any]) -> Path:
    """Write ``conversation.wav`` and ``result.json`` into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    pcm, rate = backend.stereo()
    write_wav(folder / WAV_NAME, pcm, rate, channels=2)
    text = json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n"
    (folder / RESULT_NAME).write_text(redact(text), encoding="utf-8")
    return folder
