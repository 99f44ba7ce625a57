"""Contracts inside the local agent.

- A :class:`ServerDialect` turns one provider's client frames into :class:`UserInput`
  values and :class:`AgentOutput` values into that provider's server frames. It is pure
  (no sockets, no asyncio), like the client adapters in ``voicecli.protocol``, and reads
  and writes the frames with the same wire vocabulary as the client adapter
  (``voicecli.protocol.wire.<dialect>``: ``parse_client`` and ``encode``).
- The conversation engine (dialect-agnostic) consumes user inputs, runs turn-taking,
  barge-in and pacing, and asks the agent's voice for replies, audio and transcripts
  (:mod:`voicecli.agent.voice_contracts`).

What a dialect may leave out has a default in :class:`ServerDialect`; the engine and the
server read every attribute directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from voicecli.agent.voice_contracts import Chunker

Frame = str | bytes

# ---- what a client sent, dialect-free ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserInput:
    pass


@dataclass(frozen=True, slots=True)
class UserAudio(UserInput):
    """PCM16 mono at the dialect's input rate (encoded clips are decoded by the dialect
    through ``voicecli.audio.codecs``)."""

    pcm: bytes
    rate: int
    whole_utterance: bool = False  # VoiceAgent: one clip is one complete user turn


@dataclass(frozen=True, slots=True)
class UserText(UserInput):
    text: str


@dataclass(frozen=True, slots=True)
class UserCommit(UserInput):
    """End of the user's turn now (commit / PTT release), where the dialect has it."""


@dataclass(frozen=True, slots=True)
class UserHold(UserInput):
    """Push-to-talk: the client holds the user's turn. A pause does not end it; a
    :class:`UserCommit` does, or, with ``ms`` set, ``ms`` of user audio with no further
    hold (the hold lapses; the turn then ends as the voice detector says)."""

    ms: int | None = None


@dataclass(frozen=True, slots=True)
class UserInterrupt(UserInput):
    reason: str = "client"


@dataclass(frozen=True, slots=True)
class UserContext(UserInput):
    text: str


@dataclass(frozen=True, slots=True)
class UserPong(UserInput):
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class UserToolResult(UserInput):
    call_id: str
    result: Any
    is_error: bool


@dataclass(frozen=True, slots=True)
class ClientClose(UserInput):
    """The client asked to end the session (atoms ``session.close``)."""


@dataclass(frozen=True, slots=True)
class ProtocolViolation(UserInput):
    """The client broke the protocol; ``close_code`` set means close with it."""

    message: str
    code: str = "invalid_event"
    close_code: int | None = None


# ---- what the agent says, dialect-free --------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentOutput:
    pass


@dataclass(frozen=True, slots=True)
class Ready(AgentOutput):
    """The session is open (atoms session.created, elevenlabs metadata, ...)."""

    session_id: str
    input_rate: int
    output_rate: int
    greeting: str | None = None  # a client's override of the first message ("" = none)
    # the client asked for no agent audio: replies are whole and unpaced, and a message
    # typed while a reply is being written never cuts it (it is answered next)
    text_only: bool = False
    prompt: str | None = None  # a client's override of the system prompt (the llm brain)
    language: str | None = None  # a client's override of the conversation language


@dataclass(frozen=True, slots=True)
class ReplyText(AgentOutput):
    """The whole text of an agent turn, once the brain has finished writing it.

    Emitted once per turn that says anything. When the dialect's ``reply_text_first`` is
    set it comes before the turn's first :class:`AudioOut` (ElevenLabs sends
    ``agent_response`` with the first audio chunk); otherwise as soon as the text is
    complete, which is before the turn's last audio when speech lags the text
    (VoiceAgent's ``response_complete``)."""

    turn: int
    text: str


@dataclass(frozen=True, slots=True)
class TalkStart(AgentOutput):
    turn: int


@dataclass(frozen=True, slots=True)
class TalkStop(AgentOutput):
    turn: int


@dataclass(frozen=True, slots=True)
class AudioOut(AgentOutput):
    """PCM16 mono at the dialect's output rate, one paced chunk (20-40 ms)."""

    pcm: bytes
    turn: int
    seq: int
    text: str | None = None  # the sentence this audio speaks (VoiceAgent chunks carry it)
    offset: int = 0  # where this chunk starts in the sentence's audio (bytes)
    length: int = 0  # the sentence's whole audio (bytes; 0: not a sentence's audio)


@dataclass(frozen=True, slots=True)
class TranscriptOut(AgentOutput):
    role: str  # "user" | "agent"
    text: str
    final: bool
    turn: int = 0


@dataclass(frozen=True, slots=True)
class TextOut(AgentOutput):
    """Streamed reply text (chat parts, VoiceAgent text_delta)."""

    text: str
    turn: int
    phase: str = "delta"  # start | delta | stop


@dataclass(frozen=True, slots=True)
class Interrupted(AgentOutput):
    turn: int
    heard_text: str  # the agent's text truncated to what was sent


@dataclass(frozen=True, slots=True)
class TurnDone(AgentOutput):
    turn: int
    text: str


@dataclass(frozen=True, slots=True)
class PingOut(AgentOutput):
    event_id: int


@dataclass(frozen=True, slots=True)
class ToolCallOut(AgentOutput):
    call_id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ErrorOut(AgentOutput):
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Closing(AgentOutput):
    """The session ends: send the dialect's end message, then close with ``close_code``."""

    reason: str
    close_code: int = 1000


# ---- server-side dialect ----------------------------------------------------------------


@dataclass(frozen=True)
class UpgradeRequest:
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names


@dataclass(frozen=True)
class Reject:
    status: int
    body: str


class ServerDialect(ABC):
    """One provider's protocol, server side. One instance per connection."""

    name: ClassVar[str]
    path: ClassVar[str]  # the provider's real WebSocket path
    aliases: ClassVar[tuple[str, ...]] = ()  # further paths served by the same dialect

    input_rate: int = 16000
    output_rate: int = 16000
    audio_out: bool = True  # False: text-only session (atoms chat): no audio is produced
    ping_interval: float | None = None  # seconds between engine PingOut outputs; None: none
    # the engine holds a turn's audio until its whole text is known (ReplyText first)
    reply_text_first: bool = False
    # agent audio leaves in real time (a hosted voice service streams as it speaks);
    # False: as fast as it is synthesized (VoiceAgent sends one file per sentence group)
    paced: bool = True
    # variants asked for by the connection's fault plan (``variant:NAME``): orders or
    # timings other than the provider's real ones, for tests; set before accept()
    variants: frozenset[str] = frozenset()
    max_message: int = 16 * 1024 * 1024  # largest client message accepted (bytes)
    # the WebSocket subprotocol the server answers with (set by accept(); None: none)
    subprotocol: str | None = None
    # the first message when the server configures none: None is the brain's greeting,
    # "" none (a provider that never speaks first)
    default_greeting: str | None = None
    # how replies are split for synthesis (None: whole sentences)
    chunker: Callable[[], Chunker] | None = None
    # the engine may ask this dialect's client to run tools (ToolCallOut / UserToolResult)
    client_tools: bool = False

    @abstractmethod
    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        """Check auth and parameters before the upgrade; ``None`` accepts."""

    def on_open(self) -> list[Frame]:
        """Frames to send as soon as the socket is open (before :class:`Ready`)."""
        return []

    @property
    def ready_on_open(self) -> bool:
        """True: the engine emits Ready at once; False: wait for a client message
        (elevenlabs initiation data, token-pcm's token)."""
        return True

    ready_timeout: float | None = None  # seconds to wait for that message; None: forever

    def on_ready_timeout(self) -> list[AgentOutput]:
        """Outputs when ``ready_timeout`` passed without Ready (e.g. an auth-timeout error
        and a ``Closing`` with the dialect's close code)."""
        return [Closing("timeout", 1008)]

    @abstractmethod
    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        """A client frame → inputs for the engine. A dialect may also answer directly
        with outputs (e.g. Ready after auth, pong handling)."""

    @abstractmethod
    def encode(self, output: AgentOutput) -> list[Frame]:
        """An engine output → frames for the wire."""


@dataclass(frozen=True)
class HttpCall:
    """A plain HTTP request to the local agent (token exchange, signed URL)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    base_url: str  # "http://HOST:PORT" as the client addressed the server


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"

    @staticmethod
    def json(status: int, payload: Any) -> HttpReply:
        import json

        return HttpReply(status, json.dumps(payload).encode())


class HttpHandler(Protocol):
    def __call__(self, call: HttpCall, keys: KeyCheck) -> HttpReply: ...


class KeyCheck(Protocol):
    """How dialects check credentials against the server's configured key."""

    def valid_key(self, key: str | None) -> bool: ...

    def issue_token(self, scope: Mapping[str, Any], ttl_s: float) -> str: ...

    def redeem_token(self, token: str) -> Mapping[str, Any] | None:
        """The scope of a valid, unexpired token (single use), or None."""
        ...

    def agent_exists(self, agent_id: str | None) -> bool: ...

    def agent_is_public(self, agent_id: str | None) -> bool:
        """True when ``agent_id`` may be used without a key (a server without a key: all)."""
        ...
