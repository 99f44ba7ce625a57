"""The ElevenLabs Agents conversation socket's messages (PROTOCOLS.md section B; the vendor
schema: shared/specs/elevenlabs-agent.asyncapi.yaml), shared by the client adapter
(:mod:`voicecli.protocol.elevenlabs`) and the local agent (``agent/dialects/elevenlabs.py``,
whose ElevenLabs-shaped events PerfVoice's server sends too).

``parse_server(text)`` reads what a server sends, ``parse_client(text)`` what a client
sends, ``encode(message)`` writes either; a malformed message raises
:class:`~voicecli.protocol.wire.codec.WireError`.

Where this vocabulary is more lenient than the vendor schema, and why:

- ``event_id`` is optional everywhere, a metadata message's fields too (formats default
  to ``pcm_16000``): older servers and PerfVoice leave them out;
- an ``interruption`` or ``error`` may come without its ``*_event`` object;
- ``agent_response_complete`` is not in the vendor schema (older servers sent it);
- ``text_only`` at the initiation's top level and at the override's top level (the
  official python SDK sends it there), ``pong`` without ``event_id``, ``client_tool_result``
  with a non-string ``result`` or no ``is_error``; fields nobody declares are ignored
  (the vendor objects are open).

Server messages the vendor documents and this project does not interpret
(``rich_content``, ``mcp_tool_call``, ``context_usage``…) parse as
:class:`~voicecli.protocol.wire.codec.Unhandled`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from voicecli.protocol.wire.codec import Invalid, Message, Unhandled, Vocabulary, WireError, keep_null, wire_name
from voicecli.protocol.wire.codec import encode as _encode

DEFAULT_FORMAT = "pcm_16000"
PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
FORMATS = tuple(f"pcm_{rate}" for rate in PCM_RATES) + ("ulaw_8000",)
TTS_RANGES: dict[str, tuple[float, float]] = {
    "stability": (0.0, 1.0), "speed": (0.7, 5.0), "similarity_boost": (0.0, 1.0)}


def read_format(value: str) -> tuple[str, int]:
    """``pcm_16000`` → ("pcm", 16000), ``ulaw_8000`` → ("ulaw", 8000); raises ValueError."""
    if not isinstance(value, str) or value not in FORMATS:
        raise ValueError(f"unsupported audio format: {value!r}")
    codec, _, rate = value.partition("_")
    return codec, int(rate)


def _check_format(field: str, value: str) -> None:
    if value not in FORMATS:
        raise Invalid(field, f"unsupported audio format {value[:40]!r} (allowed: {', '.join(FORMATS)})")


# ---- server → client -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConversationMetadata(Message):
    TYPE: ClassVar[str] = "conversation_initiation_metadata"
    BODY: ClassVar[str | None] = "conversation_initiation_metadata_event"
    conversation_id: str | None = None
    agent_output_audio_format: str = DEFAULT_FORMAT
    user_input_audio_format: str = DEFAULT_FORMAT

    def check(self) -> None:
        _check_format("agent_output_audio_format", self.agent_output_audio_format)
        _check_format("user_input_audio_format", self.user_input_audio_format)


@dataclass(frozen=True, slots=True)
class Alignment:
    chars: list[str]
    char_start_times_ms: list[int]
    char_durations_ms: list[int]


@dataclass(frozen=True, slots=True)
class Audio(Message):
    TYPE: ClassVar[str] = "audio"
    BODY: ClassVar[str | None] = "audio_event"
    audio_base_64: bytes
    event_id: int | None = None
    alignment: Alignment | None = None


@dataclass(frozen=True, slots=True)
class UserTranscript(Message):
    TYPE: ClassVar[str] = "user_transcript"
    BODY: ClassVar[str | None] = "user_transcription_event"
    user_transcript: str
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class TentativeUserTranscript(Message):
    TYPE: ClassVar[str] = "tentative_user_transcript"
    BODY: ClassVar[str | None] = "tentative_user_transcription_event"
    user_transcript: str
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentResponse(Message):
    TYPE: ClassVar[str] = "agent_response"
    BODY: ClassVar[str | None] = "agent_response_event"
    agent_response: str
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentResponseCorrection(Message):
    TYPE: ClassVar[str] = "agent_response_correction"
    BODY: ClassVar[str | None] = "agent_response_correction_event"
    original_agent_response: str
    corrected_agent_response: str
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentChatResponsePart(Message):
    TYPE: ClassVar[str] = "agent_chat_response_part"
    BODY: ClassVar[str | None] = "text_response_part"
    text: str = ""
    phase: str = wire_name("type", default="delta")  # start | delta | stop
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentReasoningResponsePart(Message):
    TYPE: ClassVar[str] = "agent_reasoning_response_part"
    BODY: ClassVar[str | None] = "reasoning_response_part"
    text: str = ""
    phase: str = wire_name("type", default="delta")
    event_id: str | int | None = None  # a string in the vendor schema


@dataclass(frozen=True, slots=True)
class Interruption(Message):
    TYPE: ClassVar[str] = "interruption"
    BODY: ClassVar[str | None] = "interruption_event"
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClientToolCall(Message):
    TYPE: ClassVar[str] = "client_tool_call"
    BODY: ClassVar[str | None] = "client_tool_call"
    tool_name: str
    tool_call_id: str
    parameters: dict[str, Any] | None = None
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentToolRequest(Message):
    TYPE: ClassVar[str] = "agent_tool_request"
    BODY: ClassVar[str | None] = "agent_tool_request"
    tool_name: str
    tool_call_id: str
    tool_type: str | None = None
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentToolResponse(Message):
    TYPE: ClassVar[str] = "agent_tool_response"
    BODY: ClassVar[str | None] = "agent_tool_response"
    tool_name: str
    tool_call_id: str
    tool_type: str | None = None
    is_error: bool = False
    is_called: bool | None = None
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class VadScore(Message):
    TYPE: ClassVar[str] = "vad_score"
    BODY: ClassVar[str | None] = "vad_score_event"
    vad_score: float


@dataclass(frozen=True, slots=True)
class Ping(Message):
    TYPE: ClassVar[str] = "ping"
    BODY: ClassVar[str | None] = "ping_event"
    event_id: int
    ping_ms: int | None = keep_null(default=None)


@dataclass(frozen=True, slots=True)
class TentativeAgentResponse(Message):
    TYPE: ClassVar[str] = "internal_tentative_agent_response"
    BODY: ClassVar[str | None] = "tentative_agent_response_internal_event"
    tentative_agent_response: str


@dataclass(frozen=True, slots=True)
class AgentResponseComplete(Message):
    TYPE: ClassVar[str] = "agent_response_complete"


@dataclass(frozen=True, slots=True)
class Error(Message):
    TYPE: ClassVar[str] = "error"
    BODY: ClassVar[str | None] = "error_event"
    code: int | str | None = None  # a WebSocket close code
    error_type: str | None = None
    message: str | None = None
    reason: str | None = None
    debug_message: str | None = None
    details: dict[str, Any] | None = None


SERVER_MESSAGES: tuple[type[Message], ...] = (
    ConversationMetadata, Audio, UserTranscript, TentativeUserTranscript, AgentResponse,
    AgentResponseCorrection, AgentChatResponsePart, AgentReasoningResponsePart, Interruption,
    ClientToolCall, AgentToolRequest, AgentToolResponse, VadScore, Ping, TentativeAgentResponse,
    AgentResponseComplete, Error)
UNHANDLED_SERVER = (
    "rich_content", "agent_tool_response_full_payload", "mcp_tool_call", "mcp_connection_status",
    "context_usage", "asr_initiation_metadata", "guardrail_triggered", "internal_turn_probability",
    "agent_typing", "external_agent_connected", "external_agent_disconnected")
# a body that may be left out: the message then holds its defaults
OPTIONAL_BODY = frozenset({"interruption", "error"})

# ---- client → server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserAudioChunk(Message):
    TYPE: ClassVar[str] = "user_audio_chunk"
    TYPED: ClassVar[bool] = False
    user_audio_chunk: bytes


@dataclass(frozen=True, slots=True)
class Pong(Message):
    TYPE: ClassVar[str] = "pong"
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class UserMessage(Message):
    TYPE: ClassVar[str] = "user_message"
    text: str | None = None
    rich_content_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserActivity(Message):
    TYPE: ClassVar[str] = "user_activity"


@dataclass(frozen=True, slots=True)
class ContextualUpdate(Message):
    TYPE: ClassVar[str] = "contextual_update"
    text: str
    context_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClientToolResult(Message):
    TYPE: ClassVar[str] = "client_tool_result"
    tool_call_id: str
    result: Any = None  # a string in the vendor schema
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Feedback(Message):
    TYPE: ClassVar[str] = "feedback"
    event_id: int | None = None
    score: str | None = None  # like | dislike | null


@dataclass(frozen=True, slots=True)
class McpToolApprovalResult(Message):
    TYPE: ClassVar[str] = "mcp_tool_approval_result"
    tool_call_id: str | None = None
    is_approved: bool | None = None


@dataclass(frozen=True, slots=True)
class MultimodalText:
    text: str | None = None
    rich_content_id: str | None = None


@dataclass(frozen=True, slots=True)
class MultimodalMessage(Message):
    TYPE: ClassVar[str] = "multimodal_message"
    text: MultimodalText | None = None
    file: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PromptOverride:
    prompt: str | None = None
    llm: str | None = None


@dataclass(frozen=True, slots=True)
class AgentOverride:
    first_message: str | None = None
    language: str | None = None
    prompt: PromptOverride | None = None
    native_mcp_server_ids: list[str] | None = None

    def check(self) -> None:
        if self.native_mcp_server_ids is not None and len(self.native_mcp_server_ids) > 10:
            raise Invalid("native_mcp_server_ids", "must be a list of at most 10 ids")


@dataclass(frozen=True, slots=True)
class TtsOverride:
    voice_id: str | None = None
    stability: float | None = None
    speed: float | None = None
    similarity_boost: float | None = None

    def check(self) -> None:
        for key, (low, high) in TTS_RANGES.items():
            value = getattr(self, key)
            if value is not None and not low <= value <= high:
                raise Invalid(key, f"must be between {low} and {high}")


@dataclass(frozen=True, slots=True)
class AsrOverride:
    keywords: list[str] | None = None


@dataclass(frozen=True, slots=True)
class ConversationOverride:
    text_only: bool | None = None
    client_events: list[str] | None = None

    def check(self) -> None:
        if self.client_events is not None and not self.client_events:
            raise Invalid("client_events", "must be a non-empty list of event names")


@dataclass(frozen=True, slots=True)
class ConfigOverride:
    agent: AgentOverride | None = None
    tts: TtsOverride | None = None
    asr: AsrOverride | None = None
    conversation: ConversationOverride | None = None
    text_only: bool | None = None  # where the python SDK puts it


@dataclass(frozen=True, slots=True)
class ConversationInitiation(Message):
    TYPE: ClassVar[str] = "conversation_initiation_client_data"
    conversation_config_override: ConfigOverride | None = None
    custom_llm_extra_body: dict[str, Any] | None = None
    dynamic_variables: dict[str, str | bool | int | float] | None = None
    user_id: str | None = None
    source_info: dict[str, Any] | None = None
    tool_mock_config: dict[str, Any] | None = None
    text_only: bool | None = None  # where older python SDKs put it


CLIENT_MESSAGES: tuple[type[Message], ...] = (
    UserAudioChunk, Pong, UserMessage, UserActivity, ContextualUpdate, ClientToolResult, Feedback,
    McpToolApprovalResult, MultimodalMessage, ConversationInitiation)

SERVER = Vocabulary(SERVER_MESSAGES, UNHANDLED_SERVER, optional_body=OPTIONAL_BODY)
CLIENT = Vocabulary(CLIENT_MESSAGES)


def parse_server(text: str | bytes) -> Message:
    """A server's frame as one of :data:`SERVER_MESSAGES` (or ``Unhandled``)."""
    return SERVER.parse(text)


def parse_client(text: str | bytes) -> Message:
    """A client's frame as one of :data:`CLIENT_MESSAGES`."""
    return CLIENT.parse(text)


def encode(message: Message) -> str:
    """One message as its text frame (compact JSON)."""
    return _encode(message, compact=True)


__all__ = ["Message", "Unhandled", "WireError", "encode", "parse_client", "parse_server", "read_format"]
