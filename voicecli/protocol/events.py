"""Events: what a dialect adapter reports after reading a server frame.

Every provider's server messages map onto these frozen types (see the cross-protocol
table in PROTOCOLS.md): the session and the UI never see wire JSON.

Agent turns: events about the agent's speech carry ``turn``, the provider's own identity
of the agent turn they belong to, as the adapter reads it off the wire (ElevenLabs'
``event_id``, a count of Atoms' ``agent_start_talking``, VoiceAgent's ``stream_start``).
Providers send a reply's text before, with or after its audio; the transcript files each
piece under its turn, whatever the order. ``None`` means the provider gives no identity
(the piece belongs to the agent turn in progress).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "agent"]
Encoding = Literal["pcm16", "ulaw", "mp3", "opus", "wav", "webm", "ogg"]


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """How audio travels on the wire. PCM16 is little-endian signed 16-bit."""

    encoding: Encoding = "pcm16"
    sample_rate: int = 16000
    channels: int = 1

    @property
    def is_pcm(self) -> bool:
        return self.encoding in ("pcm16", "ulaw")

    def __str__(self) -> str:
        return f"{self.encoding}@{self.sample_rate}"


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every protocol event."""


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    """The server is ready: streaming may begin. Formats are the negotiated ones."""

    input_format: AudioFormat
    output_format: AudioFormat
    session_id: str | None = None
    conversation_id: str | None = None  # call_id / conversation_id where the provider has one
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Authenticated(Event):
    """An intermediate handshake step passed (token-pcm's ``connected``)."""


@dataclass(frozen=True, slots=True)
class AgentAudio(Event):
    """A chunk of agent audio. ``data`` is raw PCM16 for pcm formats (µ-law is decoded
    by the adapter), or one standalone encoded file (mp3/opus/wav) otherwise. ``text``
    is what the chunk speaks, where the provider says (ElevenLabs' alignment characters,
    spaces included; a VoiceAgent chunk's sentence group, after a space)."""

    data: bytes
    format: AudioFormat
    event_id: int | None = None
    chunk_id: int | None = None
    text: str | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class AgentStartedTalking(Event):
    timestamp: str | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class AgentStoppedTalking(Event):
    timestamp: str | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptDelta(Event):
    """Text of the turn in progress. ``cumulative`` deltas replace the turn's text,
    others append to it."""

    role: Role
    text: str
    cumulative: bool = True
    event_id: int | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptFinal(Event):
    """The final text of a turn. For the agent it is truncated to what was heard, unless
    ``as_heard`` is False: the text the agent generated, which after an interruption may
    run past what was played (VoiceAgent's ``response_complete`` holds the text streamed
    so far; ElevenLabs' and PerfVoice's ``agent_response`` the whole reply); when it comes
    after the cut, the transcript applies its own estimate of what was heard to it."""

    role: Role
    text: str
    event_id: int | None = None
    turn: int | None = None
    as_heard: bool = True


@dataclass(frozen=True, slots=True)
class TranscriptCorrection(Event):
    """The agent's last turn was rewritten (ElevenLabs' agent_response_correction)."""

    original: str
    corrected: str
    event_id: int | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class TextDelta(Event):
    """Streamed agent text that is not a spoken transcript (chat parts, reasoning)."""

    text: str
    kind: Literal["text", "reasoning"] = "text"
    phase: Literal["start", "delta", "stop"] = "delta"
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class Interruption(Event):
    """The agent was cut off: flush playback now."""

    event_id: int | None = None
    reason: str | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class TurnComplete(Event):
    """The agent finished producing a reply (its audio may still be playing)."""

    text: str | None = None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class ToolCall(Event):
    call_id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    client_side: bool = False  # True: the client is expected to answer it


@dataclass(frozen=True, slots=True)
class ToolResult(Event):
    call_id: str
    name: str
    result: Any = None
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Ping(Event):
    """Application-level keepalive; the session answers with :class:`Pong` at once."""

    event_id: int | None = None
    ping_ms: int | None = None


@dataclass(frozen=True, slots=True)
class VadScore(Event):
    score: float


@dataclass(frozen=True, slots=True)
class ErrorEvent(Event):
    """An error the server reported. ``fatal`` errors end the session."""

    code: str
    message: str
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    """The session is over. ``error`` is set when it ended because of a failure."""

    reason: str
    close_code: int | None = None
    retryable: bool = False
    error: str | None = None
    # what kind of failure ended it, when the provider says: "auth", "not_found",
    # "timeout", "network" or "protocol" (maps to the CLI exit codes)
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class Unknown(Event):
    """A message the adapter does not know, or one it could not parse."""

    type: str
    raw: str | bytes
    malformed: bool = False
