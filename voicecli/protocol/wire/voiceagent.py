"""The VoiceAgent SDK socket's messages (npm ``voice-agent-ai-sdk``; PROTOCOLS.md section D,
from the SDK's ``StreamProcessor``, ``SpeechManager``, ``TranscriptionManager`` and
``WebSocketManager``), shared by the client adapter (:mod:`voicecli.protocol.voiceagent`)
and the local agent (``agent/dialects/voiceagent.py``).

There is no vendor schema for the server's messages: they are checked against the table in
PROTOCOLS.md and the recorded frames in ``tests/protocol/frames/voiceagent``; the client's
three messages against the hand-written ``tests/fixtures/schemas/voiceagent_client.json``.
Fields sit beside ``type`` and are camelCase on the wire, as in the SDK.

``parse_server(text)``, ``parse_client(text)``, ``encode(message)``; a malformed message
raises :class:`~voicecli.protocol.wire.codec.WireError`. Lenient where the SDK is loose:
tool messages may name the tool ``name`` (older docs) instead of ``toolName``; error
details may be a string or an object; an audio ``format`` may be a MIME type
(``audio/webm;codecs=opus``). VideoAgent-only messages parse as
:class:`~voicecli.protocol.wire.codec.Unhandled`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from voicecli.protocol.wire.codec import Invalid, Message, Unhandled, Vocabulary, WireError
from voicecli.protocol.wire.codec import encode as _encode

Encoding = Literal["pcm16", "ulaw", "mp3", "opus", "wav", "webm", "ogg"]

# an audio ``format`` on the wire → the encoding it names
ENCODINGS: dict[str, Encoding] = {
    "mp3": "mp3", "mpeg": "mp3", "mpga": "mp3", "audio/mpeg": "mp3", "audio/mp3": "mp3",
    "opus": "opus", "audio/opus": "opus",
    "wav": "wav", "wave": "wav", "audio/wav": "wav", "audio/x-wav": "wav",
    "webm": "webm", "audio/webm": "webm",
    "ogg": "ogg", "audio/ogg": "ogg",
    "pcm": "pcm16", "pcm16": "pcm16",
}


def encoding_of(value: Any) -> Encoding:
    """The encoding a wire ``format`` names (``audio/webm;codecs=opus`` too); raises ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError("missing audio format")
    key = value.strip().lower().split(";", 1)[0]
    if key in ENCODINGS:
        return ENCODINGS[key]
    raise ValueError(f"unknown audio format {value[:40]!r}")


def _check_format(value: str | None) -> None:
    if value is not None:
        try:
            encoding_of(value)
        except ValueError as exc:
            raise Invalid("format", str(exc)) from None


@dataclass(frozen=True, slots=True)
class _Tool(Message):
    """What the tool messages share: the tool's name (``toolName``, or ``name``) and call id."""

    toolCallId: str | int  # noqa: N815 - the wire's names
    toolName: str | None = None  # noqa: N815
    name: str | None = None

    def check(self) -> None:
        if self.toolName is None and self.name is None:
            raise Invalid("toolName", "is missing")

    @property
    def tool(self) -> str:
        return self.toolName if self.toolName is not None else self.name or ""


# ---- server → client: the LLM stream -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StreamStart(Message):
    TYPE: ClassVar[str] = "stream_start"


@dataclass(frozen=True, slots=True)
class StreamFinish(Message):
    TYPE: ClassVar[str] = "stream_finish"
    finishReason: str | None = None  # noqa: N815
    usage: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StreamAbort(Message):
    TYPE: ClassVar[str] = "stream_abort"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StepStart(Message):
    TYPE: ClassVar[str] = "step_start"
    warnings: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class StepFinish(Message):
    TYPE: ClassVar[str] = "step_finish"
    finishReason: str | None = None  # noqa: N815
    usage: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TextStart(Message):
    TYPE: ClassVar[str] = "text_start"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta(Message):
    TYPE: ClassVar[str] = "text_delta"
    text: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class TextEnd(Message):
    TYPE: ClassVar[str] = "text_end"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningStart(Message):
    TYPE: ClassVar[str] = "reasoning_start"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningDelta(Message):
    TYPE: ClassVar[str] = "reasoning_delta"
    text: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningEnd(Message):
    TYPE: ClassVar[str] = "reasoning_end"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolInputStart(Message):
    TYPE: ClassVar[str] = "tool_input_start"
    id: str | None = None
    toolName: str | None = None  # noqa: N815


@dataclass(frozen=True, slots=True)
class ToolInputDelta(Message):
    TYPE: ClassVar[str] = "tool_input_delta"
    id: str | None = None
    delta: str | None = None


@dataclass(frozen=True, slots=True)
class ToolInputEnd(Message):
    TYPE: ClassVar[str] = "tool_input_end"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCall(_Tool):
    TYPE: ClassVar[str] = "tool_call"
    input: Any = None


@dataclass(frozen=True, slots=True)
class ToolResult(_Tool):
    TYPE: ClassVar[str] = "tool_result"
    result: Any = None


@dataclass(frozen=True, slots=True)
class ToolError(_Tool):
    TYPE: ClassVar[str] = "tool_error"
    error: Any = None


@dataclass(frozen=True, slots=True)
class Source(Message):
    TYPE: ClassVar[str] = "source"
    source: Any = None


@dataclass(frozen=True, slots=True)
class File(Message):
    TYPE: ClassVar[str] = "file"
    file: Any = None


@dataclass(frozen=True, slots=True)
class ResponseComplete(Message):
    TYPE: ClassVar[str] = "response_complete"
    text: str = ""
    reasoning: str | None = None
    toolCalls: list[Any] | None = None  # noqa: N815
    toolResults: list[Any] | None = None  # noqa: N815
    sources: list[Any] | None = None
    files: list[Any] | None = None


# ---- server → client: speech, transcription, errors --------------------------------------------

@dataclass(frozen=True, slots=True)
class SpeechStreamStart(Message):
    TYPE: ClassVar[str] = "speech_stream_start"


@dataclass(frozen=True, slots=True)
class SpeechStreamEnd(Message):
    TYPE: ClassVar[str] = "speech_stream_end"


@dataclass(frozen=True, slots=True)
class SpeechInterrupted(Message):
    TYPE: ClassVar[str] = "speech_interrupted"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AudioChunk(Message):
    """One sentence group's speech: a standalone encoded file."""

    TYPE: ClassVar[str] = "audio_chunk"
    chunkId: int  # noqa: N815
    data: bytes
    format: str | None = None
    text: str | None = None

    def check(self) -> None:
        if self.chunkId < 0:
            raise Invalid("chunkId", "must not be negative")
        _check_format(self.format)


@dataclass(frozen=True, slots=True)
class AudioFull(Message):
    """A whole reply's speech in one file (``generateAndSendSpeechFull``)."""

    TYPE: ClassVar[str] = "audio"
    data: bytes
    format: str | None = None

    def check(self) -> None:
        _check_format(self.format)


@dataclass(frozen=True, slots=True)
class TranscriptionResult(Message):
    TYPE: ClassVar[str] = "transcription_result"
    text: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class _Failure(Message):
    error: Any = None  # a string, or an object with a message
    message: Any = None

    @property
    def detail(self) -> str | None:
        value = self.error if self.error is not None else self.message
        if isinstance(value, dict):
            value = value.get("message") or json.dumps(value)
        return str(value) if value else None


@dataclass(frozen=True, slots=True)
class Error(_Failure):
    TYPE: ClassVar[str] = "error"


@dataclass(frozen=True, slots=True)
class StreamError(_Failure):
    TYPE: ClassVar[str] = "stream_error"


@dataclass(frozen=True, slots=True)
class TranscriptionError(_Failure):
    TYPE: ClassVar[str] = "transcription_error"


SERVER_MESSAGES: tuple[type[Message], ...] = (
    StreamStart, StreamFinish, StreamAbort, StepStart, StepFinish, TextStart, TextDelta, TextEnd,
    ReasoningStart, ReasoningDelta, ReasoningEnd, ToolInputStart, ToolInputDelta, ToolInputEnd, ToolCall,
    ToolResult, ToolError, Source, File, ResponseComplete, SpeechStreamStart, SpeechStreamEnd,
    SpeechInterrupted, AudioChunk, AudioFull, TranscriptionResult, Error, StreamError, TranscriptionError)
VIDEO_ONLY_SERVER = ("capture_frame", "frame_ack", "session_init")

# ---- client → server ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transcript(Message):
    """A typed turn."""

    TYPE: ClassVar[str] = "transcript"
    text: str

    def check(self) -> None:
        if not self.text.strip():
            raise Invalid("text", "must not be empty")


@dataclass(frozen=True, slots=True)
class Audio(Message):
    """One whole utterance as an encoded clip (``format`` is a hint)."""

    TYPE: ClassVar[str] = "audio"
    data: bytes
    format: str | None = None

    def check(self) -> None:
        if not self.data:
            raise Invalid("data", "must not be empty")


@dataclass(frozen=True, slots=True)
class Interrupt(Message):
    TYPE: ClassVar[str] = "interrupt"
    reason: str | None = None


CLIENT_MESSAGES: tuple[type[Message], ...] = (Transcript, Audio, Interrupt)
VIDEO_ONLY_CLIENT = ("client_ready", "video_frame")

SERVER = Vocabulary(SERVER_MESSAGES, VIDEO_ONLY_SERVER)
CLIENT = Vocabulary(CLIENT_MESSAGES, VIDEO_ONLY_CLIENT)


def parse_server(text: str | bytes) -> Message:
    """A server's frame as one of :data:`SERVER_MESSAGES` (or ``Unhandled``)."""
    return SERVER.parse(text)


def parse_client(text: str | bytes) -> Message:
    """A client's frame as one of :data:`CLIENT_MESSAGES` (or ``Unhandled``)."""
    return CLIENT.parse(text)


def encode(message: Message) -> str:
    """One message as its text frame (compact JSON)."""
    return _encode(message, compact=True)


__all__ = ["Message", "Unhandled", "WireError", "encode", "encoding_of", "parse_client", "parse_server"]
