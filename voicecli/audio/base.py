"""The audio contract the session layer uses: backends open capture and playback streams.

All audio crossing this boundary is PCM16 little-endian mono (``bytes``). Streams
resample internally between the device's native rate and the session's rate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol, runtime_checkable

FRAME_MS = 20


def frame_bytes(rate: int, frame_ms: int = FRAME_MS) -> int:
    """Bytes of one PCM16 mono frame: 20 ms at 16 kHz is 640 bytes."""
    return rate * frame_ms // 1000 * 2


@runtime_checkable
class CaptureStream(Protocol):
    """A microphone (or a file standing in for one) at the session rate."""

    rate: int

    def frames(self) -> AsyncIterator[bytes]:
        """Exact ``frame_ms`` frames of PCM16 mono at ``rate``, in capture order.
        Each frame is paired with its capture time via ``last_capture_time``."""
        ...

    @property
    def last_capture_time(self) -> float:
        """``time.monotonic()`` at which the first sample of the last frame was captured."""
        ...

    @property
    def level_db(self) -> float:
        """RMS level of the most recent frame in dBFS (-100 for silence)."""
        ...

    @property
    def finished(self) -> bool:
        """True once a file source has delivered its last real sample (silence follows)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class LevelledCapture(Protocol):
    """A capture stream that measures its frames' levels on the samples it already holds."""

    def window_levels_db(self, window_ms: int) -> list[float] | None:
        """Levels (dBFS) of the last frame's consecutive ``window_ms`` windows; None when
        the frame is not a whole number of them."""
        ...


@runtime_checkable
class ScriptedSpeech(Protocol):
    """A capture stream that plays clips and knows when the last clip's speech ended (load
    sessions mark the end of the user's turn there, as the VAD would)."""

    speech_end: float | None


@runtime_checkable
class PlaybackStream(Protocol):
    """A speaker (or a file standing in for one) fed with agent audio."""

    rate: int

    def write(self, pcm: bytes, rate: int | None = None) -> None:
        """Queue PCM16 mono at ``rate`` (default: the stream's rate). Never blocks."""
        ...

    def flush(self) -> float:
        """Drop everything queued so the next callback plays silence (barge-in).
        Returns the seconds of audio dropped."""
        ...

    @property
    def played_seconds(self) -> float:
        """Agent audio actually handed to the device since the stream opened."""
        ...

    @property
    def buffered_seconds(self) -> float:
        """Audio queued and not yet played."""
        ...

    @property
    def level_db(self) -> float:
        """RMS level of the audio being played now, in dBFS."""
        ...

    async def drain(self, timeout: float) -> None:
        """Wait until everything queued has been played (or ``timeout`` passes)."""
        ...

    async def close(self) -> None: ...


class AudioBackend(Protocol):
    """Opens streams. ``None`` from an ``open_*`` call means "not available: go on
    without it" (the backend's ``notice`` says why)."""

    name: str
    notice: str | None

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> CaptureStream | None: ...

    async def open_playback(self, rate: int) -> PlaybackStream | None: ...

    async def close(self) -> None: ...


class NullBackend:
    """No audio at all: text-only sessions (no device, or ``--no-audio``)."""

    name = "none"

    def __init__(self, notice: str | None = None) -> None:
        self.notice = notice

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> CaptureStream | None:
        return None

    async def open_playback(self, rate: int) -> PlaybackStream | None:
        return None

    async def close(self) -> None:
        return None


PlaybackTap = Callable[[bytes, int, float], None]
"""Receives agent audio as played: ``(pcm16_mono, rate, monotonic_time_of_first_sample)``.
Called on the event loop thread, never from an audio callback."""


@runtime_checkable
class TappablePlayback(Protocol):
    """A playback stream that can hand out what it plays (for a recorder or an echo canceller)."""

    def add_tap(self, tap: PlaybackTap) -> None: ...

    def remove_tap(self, tap: PlaybackTap) -> None: ...

    @property
    def audible(self) -> bool:
        """True while agent audio is coming out of the speaker (for half-duplex)."""
        ...


@runtime_checkable
class MonitoredStream(Protocol):
    """A stream that can fail under the session (device unplugged): it then stops
    raising, ``failed`` turns True and ``notice`` says why in one line."""

    @property
    def failed(self) -> bool: ...

    @property
    def notice(self) -> str | None: ...


@runtime_checkable
class DeviceChoice(Protocol):
    """A backend whose microphone and speaker are chosen devices (PortAudio): ``None``
    is the system's default, otherwise a device number or name. Setting one takes effect
    the next time a stream is opened."""

    input_device: int | str | None
    output_device: int | str | None
