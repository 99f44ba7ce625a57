"""Session-level events, emitted beside the protocol events on the same stream."""

from __future__ import annotations

from dataclasses import dataclass

from voicecli.protocol.events import Event


@dataclass(frozen=True, slots=True)
class Connecting(Event):
    url: str  # redacted
    dialect: str


@dataclass(frozen=True, slots=True)
class Connected(Event):
    url: str  # redacted
    dialect: str
    connect_ms: float


@dataclass(frozen=True, slots=True)
class AudioStatus(Event):
    """Which audio is live. ``None`` for a direction means text-only for it."""

    input: str | None
    output: str | None
    input_rate: int | None = None
    output_rate: int | None = None
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class Levels(Event):
    """Throttled meters (about 10 per second), in dBFS."""

    mic_db: float
    agent_db: float
    mic_open: bool
    agent_queued_s: float = 0.0
    """Agent audio received and not played yet (the speaker's queue)."""


@dataclass(frozen=True, slots=True)
class TurnLatency(Event):
    """End of the user's input → first agent audio received (and played, when known)."""

    ms: float
    source: str  # "speech" | "text" | "commit"


@dataclass(frozen=True, slots=True)
class PlaybackFlushed(Event):
    """Agent audio dropped at an interruption; ``heard_s`` is what the user heard of the turn."""

    dropped_s: float
    heard_s: float


@dataclass(frozen=True, slots=True)
class Notice(Event):
    text: str
    level: str = "info"  # info | warning | error


@dataclass(frozen=True, slots=True)
class SessionClosed(Event):
    """The worker stopped. ``error`` holds the one-line message when it failed;
    ``exit_code`` is the CLI exit code that matches it."""

    reason: str
    close_code: int | None = None
    error: str | None = None
    exit_code: int = 0


@dataclass(frozen=True, slots=True)
class TextSent(Event):
    """The user typed a message; the session emits it when the text is sent."""

    text: str


@dataclass(frozen=True, slots=True)
class Mark(Event):
    """A caller's marker, put in the event stream in order with the session's own events
    (``Session.mark``): everything before it happened before the caller's step."""

    label: str


@dataclass(frozen=True, slots=True)
class ConnectionLost(Event):
    """A live connection failed and the session will try to reconnect. ``mid_reply``: the
    agent was replying when it was lost (that reply is cut)."""

    error: str
    close_code: int | None = None
    mid_reply: bool = False


@dataclass(frozen=True, slots=True)
class Reconnecting(Event):
    """The next try starts in ``delay_s``; ``error`` is why the last one ended."""

    attempt: int
    attempts: int
    delay_s: float
    error: str


@dataclass(frozen=True, slots=True)
class Reconnected(Event):
    """A new connection is live (before its :class:`SessionStarted`); the conversation goes on."""

    attempt: int


@dataclass(frozen=True, slots=True)
class ReconnectGaveUp(Event):
    """No more automatic tries; ``Session.reconnect_now()`` tries again, ``close()`` ends."""

    why: str
