"""What a session offers its user interface: :class:`SessionSurface`.

:class:`voicecli.session.worker.Session` implements it; the TUI and the recorder type
against it (the TUI's tests give it scripted sessions of their own). Every member is
there in every session: what a session cannot do it answers for itself (``set_aec``
says echo cancellation is unavailable, ``reconnect_now`` returns False, ``switch_device``
raises :class:`~voicecli.errors.AudioDeviceError` when the backend is no
:class:`~voicecli.audio.base.DeviceChoice`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal, Protocol

from voicecli.audio.base import AudioBackend, PlaybackStream
from voicecli.protocol.base import Adapter
from voicecli.protocol.commands import Command
from voicecli.protocol.events import Event
from voicecli.session.options import SessionOptions

if TYPE_CHECKING:
    from voicecli.audio.devices import DeviceSpec
    from voicecli.session.events import SessionClosed

Direction = Literal["input", "output"]


class LevelControls(Protocol):
    """The speaker volume and the microphone gain (factors, 1.0 = as is)."""

    volume: float
    gain: float


class SessionSurface(Protocol):
    """The part of a session a user interface drives and reads."""

    muted: bool
    gate_open: bool  # push-to-talk gate; True = open mic

    @property
    def adapter(self) -> Adapter:
        """The dialect adapter of the connection in use (its ``name`` and ``capabilities``)."""
        ...

    @property
    def options(self) -> SessionOptions: ...

    @property
    def audio(self) -> AudioBackend | None: ...

    @property
    def link(self) -> LevelControls: ...

    @property
    def playback(self) -> PlaybackStream | None: ...

    async def run(self) -> SessionClosed: ...

    def events(self) -> AsyncIterator[Event]: ...

    def submit(self, command: Command) -> None: ...

    def close(self) -> None: ...

    def set_muted(self, muted: bool) -> None: ...

    def set_gate(self, open_: bool) -> None: ...

    def set_push_to_talk(self, on: bool) -> None: ...

    def set_aec(self, on: bool | None) -> str:
        """``/aec on|off`` (None: just tell): one line for the user."""
        ...

    def reconnect_now(self) -> bool:
        """Reconnect now; False when there is nothing to do."""
        ...

    async def switch_device(self, direction: Direction, spec: DeviceSpec) -> None: ...

    async def alive(self, timeout: float) -> bool:
        """Whether the server still answers (a WebSocket ping within ``timeout`` s)."""
        ...
