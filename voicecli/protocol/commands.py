"""Commands: what the client asks a dialect adapter to put on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Command:
    """Base of every client command."""


@dataclass(frozen=True, slots=True)
class SendAudio(Command):
    """One mic frame: PCM16 mono at the session's negotiated input rate."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class CommitAudio(Command):
    """The user's turn ended (push-to-talk release or client-side VAD)."""


@dataclass(frozen=True, slots=True)
class HoldTurn(Command):
    """Push-to-talk pressed: the user holds the turn until :class:`CommitAudio` (the
    release); a pause in between does not end it, where the dialect can say so."""


@dataclass(frozen=True, slots=True)
class SendText(Command):
    """A typed message, sent as the provider's text input."""

    text: str


@dataclass(frozen=True, slots=True)
class Interrupt(Command):
    """Ask the agent to stop talking (where the provider has such a message)."""

    reason: str = "user_interrupt"


@dataclass(frozen=True, slots=True)
class Close(Command):
    """End the session cleanly with the provider's close message, if any."""


@dataclass(frozen=True, slots=True)
class Pong(Command):
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class ContextUpdate(Command):
    """Background context that does not interrupt the agent."""

    text: str


@dataclass(frozen=True, slots=True)
class UserActivity(Command):
    """Tell the server the user is still there (resets turn timers)."""


@dataclass(frozen=True, slots=True)
class SendToolResult(Command):
    call_id: str
    result: Any
    is_error: bool = False
