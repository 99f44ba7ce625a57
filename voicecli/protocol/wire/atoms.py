"""The Smallest AI Atoms realtime agent socket's messages (PROTOCOLS.md section A; the vendor
schema: shared/specs/atoms-agent-ws.asyncapi.yaml), shared by the client adapter
(:mod:`voicecli.protocol.atoms`) and the local agent (``agent/dialects/atoms.py``).

``parse_server(text)``, ``parse_client(text)``, ``encode(message)``; a malformed message
raises :class:`~voicecli.protocol.wire.codec.WireError`. Fields sit beside ``type``.

Where this vocabulary is more lenient than the vendor schema: ``session.created`` may leave
out its ids, its ``sample_rate`` (the client then keeps the rate it asked for) and its
``channels`` (1); a transcript's ``role`` is any string (anything but ``user`` is the
agent); an ``error`` may leave out ``code`` and ``message`` or give a numeric code;
``session.closed`` may leave out its reason. A ``session.created`` whose ``sample_rate`` or
``channels`` is outside what the provider allows is an error naming the field
(:func:`voicecli.protocol.base.check_rate` says what is allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from voicecli.protocol.base import FormatError, check_rate
from voicecli.protocol.wire.codec import ABSENT, Invalid, Message, Unhandled, Vocabulary, WireError
from voicecli.protocol.wire.codec import encode as _encode

RATES = (8000, 16000, 24000, 48000)
CHANNELS = (1, 2)

# ---- server → client ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionCreated(Message):
    TYPE: ClassVar[str] = "session.created"
    session_id: str | None = None
    call_id: str | None = None
    sample_rate: Any = ABSENT  # an int in RATES: checked by check_rate, which says what was wrong
    channels: Any = ABSENT  # 1 or 2

    def check(self) -> None:
        for name, what, allowed in (("sample_rate", "sample_rate", RATES), ("channels", "channel count", CHANNELS)):
            value = getattr(self, name)
            if value is not ABSENT:
                try:
                    check_rate("atoms", what, value, allowed)
                except FormatError as exc:
                    raise Invalid(name, str(exc)) from None

    @property
    def rate(self) -> int | None:
        return int(self.sample_rate) if self.sample_rate is not ABSENT else None

    @property
    def channel_count(self) -> int:
        return int(self.channels) if self.channels is not ABSENT else 1


@dataclass(frozen=True, slots=True)
class SessionClosed(Message):
    TYPE: ClassVar[str] = "session.closed"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OutputAudioDelta(Message):
    TYPE: ClassVar[str] = "output_audio.delta"
    audio: bytes


@dataclass(frozen=True, slots=True)
class Transcript(Message):
    """A final transcript: the user's turn, or what the agent said (``assistant``)."""

    TYPE: ClassVar[str] = "transcript"
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class TranscriptDelta(Message):
    """The turn's text so far (cumulative)."""

    TYPE: ClassVar[str] = "transcript.delta"
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class AgentStartTalking(Message):
    TYPE: ClassVar[str] = "agent_start_talking"
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStopTalking(Message):
    TYPE: ClassVar[str] = "agent_stop_talking"
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class Interruption(Message):
    TYPE: ClassVar[str] = "interruption"


@dataclass(frozen=True, slots=True)
class Error(Message):
    TYPE: ClassVar[str] = "error"
    code: str | int | None = None
    message: str | None = None


SERVER_MESSAGES: tuple[type[Message], ...] = (
    SessionCreated, SessionClosed, OutputAudioDelta, Transcript, TranscriptDelta, AgentStartTalking,
    AgentStopTalking, Interruption, Error)

# ---- client → server ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InputAudioAppend(Message):
    TYPE: ClassVar[str] = "input_audio_buffer.append"
    audio: bytes

    def check(self) -> None:
        if not self.audio:
            raise Invalid("audio", "is required")


@dataclass(frozen=True, slots=True)
class InputAudioCommit(Message):
    TYPE: ClassVar[str] = "input_audio_buffer.commit"


@dataclass(frozen=True, slots=True)
class InputTextSend(Message):
    TYPE: ClassVar[str] = "input_text.send"
    text: str

    def check(self) -> None:
        if not self.text:
            raise Invalid("text", "is required")


@dataclass(frozen=True, slots=True)
class SessionUpdate(Message):
    """Reserved at the hosted service (a no-op); the local agent reads it as a held turn."""

    TYPE: ClassVar[str] = "session.update"


@dataclass(frozen=True, slots=True)
class SessionClose(Message):
    TYPE: ClassVar[str] = "session.close"


CLIENT_MESSAGES: tuple[type[Message], ...] = (
    InputAudioAppend, InputAudioCommit, InputTextSend, SessionUpdate, SessionClose)

SERVER = Vocabulary(SERVER_MESSAGES)
CLIENT = Vocabulary(CLIENT_MESSAGES)


def parse_server(text: str | bytes) -> Message:
    """A server's frame as one of :data:`SERVER_MESSAGES`."""
    return SERVER.parse(text)


def parse_client(text: str | bytes) -> Message:
    """A client's frame as one of :data:`CLIENT_MESSAGES`."""
    return CLIENT.parse(text)


def encode(message: Message) -> str:
    """One message as its text frame (compact JSON)."""
    return _encode(message, compact=True)


__all__ = ["Message", "Unhandled", "WireError", "encode", "parse_client", "parse_server"]
