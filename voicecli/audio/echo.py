"""Keeping the agent's own voice out of the microphone.

``EchoCanceller`` is the seam: the session hands it what the speaker plays
(``reference``) and each microphone frame (``process``). ``HalfDuplexGate`` is the
dependency-free fallback (``--half-duplex``): while agent audio is audible, plus a short
tail for the room's echo, microphone frames are replaced with silence.
:class:`voicecli.audio.aec.ApmEchoCanceller` is the acoustic echo canceller (WebRTC AEC3):
there ``process`` gets the frame's capture time as ``now``, to align the reference.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class EchoCanceller(Protocol):
    def reference(self, played: bytes, rate: int, t: float) -> None:
        """Audio as played (a playback tap): the echo to remove."""
        ...

    def process(self, frame: bytes, playback_audible: bool, now: float | None = None) -> bytes:
        """One microphone frame in, the frame to send out (same length)."""
        ...


class HalfDuplexGate:
    """Mutes the microphone while the agent is audible and for ``tail_ms`` after it."""

    def __init__(self, tail_ms: float = 200.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.tail_s = tail_ms / 1000.0
        self._clock = clock
        self._open_at = 0.0
        self.frames_muted = 0

    def reference(self, played: bytes, rate: int, t: float) -> None:
        """Played audio also keeps the gate closed until it has been heard, plus the tail."""
        end = t + len(played) / 2 / rate
        self._open_at = max(self._open_at, end + self.tail_s)

    def muted(self, playback_audible: bool, now: float | None = None) -> bool:
        now = self._clock() if now is None else now
        if playback_audible:
            self._open_at = max(self._open_at, now + self.tail_s)
            return True
        return now < self._open_at

    def process(self, frame: bytes, playback_audible: bool, now: float | None = None) -> bytes:
        if self.muted(playback_audible, now):
            self.frames_muted += 1
            return bytes(len(frame))
        return frame

    def reset(self) -> None:
        """Open the gate now (after a barge-in flush the speaker is silent)."""
        self._open_at = 0.0
