"""The "session token" PCM socket's messages (seed 002; PROTOCOLS.md section C), shared by the
client adapter (:mod:`voicecli.protocol.token_pcm`) and the local agent
(``agent/dialects/token_pcm.py``).

Audio goes both ways as binary frames of raw PCM16; the JSON is a handful of messages. The
client sends one, ``{"token": JWT}`` (no ``type``; checked against the hand-written
``tests/fixtures/schemas/token_pcm_client.json``); the server sends ``connected``,
``agent_ready``, ``session_ended{reason}`` and ``error{code, message}`` (the table in
PROTOCOLS.md and the recorded frames). ``reason`` is any string (the doc versions differ).

``parse_server(text)``, ``parse_client(text)``, ``encode(message)``; a malformed message
raises :class:`~voicecli.protocol.wire.codec.WireError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from voicecli.protocol.wire.codec import Invalid, Message, Unhandled, Vocabulary, WireError
from voicecli.protocol.wire.codec import encode as _encode

# the documented error codes → what they mean
ERROR_CODES: dict[str, str] = {
    "AUTH_TIMEOUT": "no token was sent within 10 s",
    "INVALID_AUTH": "the first message had no token",
    "AUTH_FAILED": "the session token is invalid or expired",
    "SESSION_SETUP_FAILED": "the server could not set up the session; try again later",
}


@dataclass(frozen=True, slots=True)
class Connected(Message):
    """The token was accepted: mic audio may flow."""

    TYPE: ClassVar[str] = "connected"


@dataclass(frozen=True, slots=True)
class AgentReady(Message):
    TYPE: ClassVar[str] = "agent_ready"


@dataclass(frozen=True, slots=True)
class SessionEnded(Message):
    TYPE: ClassVar[str] = "session_ended"
    # agent_disconnected | session_closed | room_closed | server_shutdown; a reason that is
    # not a string still ends the session
    reason: Any = None

    @property
    def said(self) -> str | None:
        return self.reason if isinstance(self.reason, str) and self.reason else None


@dataclass(frozen=True, slots=True)
class Error(Message):
    """Sent just before the server closes."""

    TYPE: ClassVar[str] = "error"
    code: str | None = None
    message: str | None = None


SERVER_MESSAGES: tuple[type[Message], ...] = (Connected, AgentReady, SessionEnded, Error)


@dataclass(frozen=True, slots=True)
class Token(Message):
    """The first frame: the session token from the token endpoint."""

    TYPE: ClassVar[str] = "token"
    TYPED: ClassVar[bool] = False
    token: str

    def check(self) -> None:
        if not self.token:
            raise Invalid("token", "must not be empty")


CLIENT_MESSAGES: tuple[type[Message], ...] = (Token,)

SERVER = Vocabulary(SERVER_MESSAGES)
CLIENT = Vocabulary(CLIENT_MESSAGES)


def parse_server(text: str | bytes) -> Message:
    """A server's JSON frame as one of :data:`SERVER_MESSAGES`."""
    return SERVER.parse(text)


def parse_client(text: str | bytes) -> Message:
    """A client's JSON frame: the token message."""
    return CLIENT.parse(text)


def encode(message: Message) -> str:
    """One message as its text frame (compact JSON)."""
    return _encode(message, compact=True)


__all__ = ["Message", "Unhandled", "WireError", "encode", "parse_client", "parse_server"]
