"""What the app needs from a session, and how it is given one.

The app types every session against :class:`voicecli.session.surface.SessionSurface`
(``SessionLike`` here), which the session worker implements. It never builds a session
itself: it takes a :data:`SessionFactory`, an async context manager factory that yields a
:class:`LiveSession` (the session plus what the status bar shows about the connection).
The CLI's factory opens the endpoint (starting the local agent when needed); tests pass
factories of real or fake sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from voicecli.session.surface import SessionSurface
from voicecli.tui.ptt import PttMode

SessionLike = SessionSurface


@dataclass
class LiveSession:
    session: SessionLike
    label: str  # "local agent, offline" or the provider URL (redacted)
    local: bool = False
    agent: str | None = None  # the agent id in use, when the endpoint chose it


SessionFactory = Callable[[], AbstractAsyncContextManager[LiveSession]]

class Recorder(Protocol):
    """Records the live session (:class:`voicecli.session.recording.Recordings`); each
    call returns a line to show."""

    files: list[Path]

    @property
    def current(self) -> Path | None: ...

    def start(self, session: SessionLike, directory: Path) -> str: ...

    def stop(self, session: SessionLike) -> str: ...


@dataclass
class TalkSettings:
    """Everything about a talk run that is not the session itself."""

    dialect: str = "atoms"
    agent: str | None = None
    ptt: PttMode = PttMode.OFF
    transcript_path: Path | None = None  # JSONL, appended as the conversation goes
    recorder: Recorder | None = None  # None: "/record" says recording is not available
    notices: list[str] = field(default_factory=list)  # shown in the transcript at start
    close_timeout: float = 4.0  # how long quitting waits for the provider to close
    failure_linger: float = 1.5  # how long a handshake error stays in the app before it exits
    text_only: str | None = None  # known before connecting (no audio): why, shown once
    profile: str | None = None  # the config profile in use, shown beside the URL
