"""ElevenLabs Conversational AI (Agents), server side (PROTOCOLS.md section B).

The peer of ``voicecli.protocol.elevenlabs.ElevenLabsAdapter``.

- ``GET /v1/convai/conversation/get-signed-url?agent_id=ID`` with ``xi-api-key`` gives a
  signed URL, reusable for 15 minutes (:mod:`._elevenlabs_auth`).
- ``/v1/convai/conversation?agent_id=ID``: with a signed URL's ``token``; without one
  the agent must be public (every agent on a server without an API key, and the
  ``public_agents`` of one with a key), or the upgrade is refused with 403 (private
  agent) unless an ``xi-api-key`` header carries the key. Unknown agents get 404.
- Subprotocols (the JS client offers ``convai`` and, given ``authorization``,
  ``bearer.<credential>``): ``convai`` is answered when offered; a bearer credential
  stands in for the ``xi-api-key`` header when it is the API key, otherwise it is
  redeemed as a signed URL's token. The bearer is never echoed.
- The first client message should be ``conversation_initiation_client_data``; the
  server answers ``conversation_initiation_metadata`` and the conversation starts (any
  other first message starts it with defaults). What the initiation may hold, what is
  applied and how leniently it is read: :mod:`._elevenlabs_overrides`. Invalid messages
  end the session with ``error{error_type: invalid_message}`` and close 1008.
- Server events follow ``client_events``: by default ``audio``, ``interruption``,
  ``agent_response``, ``user_transcript``, ``tentative_user_transcript``,
  ``conversation_initiation_metadata`` and ``ping``; the ``conversation.client_events``
  override selects others (``agent_chat_response_part``,
  ``agent_response_correction``, …). The local agent stands for an agent whose
  configuration has a client tool (the rules brain asks the client for
  ``get_local_time``), so its own list adds ``client_tool_call`` (``AGENT_EVENTS``); an
  override replaces the list.
- ``event_id`` grows with every user transcript and every agent reply; ``audio``,
  ``agent_response`` and ``interruption`` carry the reply's id, so a client drops stale
  audio by id.
- Order of a reply: ``agent_response`` (the whole reply text) just before the reply's
  first ``audio`` chunk, then the audio. On barge-in: ``interruption``, then
  ``agent_response_correction`` (the original text → the part that was heard) when the
  client enabled that event; nothing more for that reply. The fault item
  ``variant:legacy-order`` keeps the old local order instead: ``agent_response`` when
  the reply ends, holding only what was heard after an interruption. A turn for which
  the engine gave no ``ReplyText`` is sent in that order too.
- ``ping{event_id, ping_ms}`` every ``PING_INTERVAL_S`` seconds; ``pong`` echoes the id.
  ``ping_ms`` is the round trip measured from the latest answered ping
  (``INITIAL_PING_MS`` before any).
- There is no end message: the server closes with 1000 when the agent ends.
- ``user_activity`` (the hosted service only resets its turn timer) holds the user's
  turn for the next ``HOLD_MS`` of user audio: a client doing push-to-talk sends it
  while the key is down, so no pause ends the turn; when it stops (the release) the
  hold lapses and a pause already heard ends the turn at once.

Local additions: the query parameters ``output_format`` and ``input_format``
(``pcm_8000`` … ``pcm_48000``, ``ulaw_8000``; default ``pcm_16000``) stand in for the
formats an agent's configuration fixes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import ClassVar

from voicecli.agent.dialects import register, register_http
from voicecli.agent.dialects._alignment import alignment
from voicecli.agent.dialects._elevenlabs_auth import (
    CONVERSATION_PATH,
    SIGNED_URL_PATH,
    get_signed_url,
    is_public,
    xi_key,
)
from voicecli.agent.dialects._elevenlabs_overrides import Initiation, settings, violation
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ErrorOut,
    Frame,
    Interrupted,
    KeyCheck,
    PingOut,
    Ready,
    Reject,
    ReplyText,
    ServerDialect,
    TalkStart,
    TextOut,
    ToolCallOut,
    TranscriptOut,
    UpgradeRequest,
    UserAudio,
    UserContext,
    UserHold,
    UserInput,
    UserPong,
    UserText,
    UserToolResult,
)
from voicecli.pcm import ulaw
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import elevenlabs as wire

SUBPROTOCOL = "convai"
HOLD_MS = 400  # a user_activity holds the turn for this much user audio (clients: every 200 ms)
PING_INTERVAL_S = 5.0
INITIAL_PING_MS = 50  # ping_ms before a pong was measured: a plausible round trip
LEGACY_ORDER = "legacy-order"  # variant: agent_response at the end of a reply
DEFAULT_FORMAT = "pcm_16000"
DEFAULT_CLIENT_EVENTS = frozenset({
    "audio", "interruption", "agent_response", "user_transcript", "tentative_user_transcript",
    "conversation_initiation_metadata", "ping",
})
AGENT_EVENTS = DEFAULT_CLIENT_EVENTS | {"client_tool_call"}  # the local agent's configured events
ALWAYS_SENT = frozenset({"conversation_initiation_metadata", "error"})  # whatever client_events say
# ErrorOut codes -> WebSocket close code in error_event.code
INPUT_ERRORS = frozenset({"invalid_message", "override_error", "missing_fields", "value_error",
                          "missing_dynamic_variable", "invalid_event"})


def parse_format(value: str) -> tuple[str, int] | None:
    """``pcm_16000`` → ("pcm", 16000); ``ulaw_8000`` → ("ulaw", 8000); else None."""
    try:
        return wire.read_format(value)
    except ValueError:
        return None


class ElevenLabsShaped(ServerDialect):
    """The ElevenLabs-shaped server events, shared with PerfVoice."""

    name: ClassVar[str] = "elevenlabs"
    path: ClassVar[str] = CONVERSATION_PATH

    initial_ping_ms: int | None = None  # ping_ms until a round trip was measured
    aligned = False  # audio events carry the characters they speak (``alignment``)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.input_codec, self.input_rate = "pcm", 16000
        self.output_codec, self.output_rate = "pcm", 16000
        self.ping_interval = PING_INTERVAL_S
        self.client_events: frozenset[str] = DEFAULT_CLIENT_EVENTS
        self.text_only = False
        self.started = False
        self.agent_id: str | None = None
        self.conversation_id: str | None = None
        self.clock = clock
        self.ping_ms: int | None = None  # the latest measured round trip
        self._pings: dict[int, float] = {}  # ping event_id -> when it was sent
        self._event_id = 0
        self._sentences: dict[int, str | None] = {}  # turn -> the sentence its audio speaks now
        self._turn_ids: dict[int, int] = {}
        self._turn_text: dict[int, str] = {}
        self._interrupted: set[int] = set()
        self._replied: dict[int, str] = {}  # turns whose agent_response went first: its text
        self._finished: set[int] = set()  # turns with nothing more to send

    # ---- helpers ---------------------------------------------------------------------------

    def _metadata(self, output: Ready) -> wire.ConversationMetadata:
        return wire.ConversationMetadata(
            conversation_id=self.conversation_id or f"conv_{output.session_id.replace('-', '')[:24]}",
            agent_output_audio_format=f"{self.output_codec}_{self.output_rate}",
            user_input_audio_format=f"{self.input_codec}_{self.input_rate}")

    def _turn_id(self, turn: int) -> int:
        if turn not in self._turn_ids:
            self._event_id += 1
            self._turn_ids[turn] = self._event_id
        return self._turn_ids[turn]

    def _alignment(self, output: AudioOut) -> wire.Alignment | None:
        if not self.aligned or not output.text or not output.length:
            return None
        previous = self._sentences.get(output.turn)
        self._sentences[output.turn] = output.text
        lead = output.offset == 0 and previous is not None
        timing = alignment(output.text, output.offset, output.length, len(output.pcm), self.output_rate, lead)
        return wire.Alignment(**timing) if timing is not None else None

    def _audio_in(self, raw: bytes) -> list[UserInput | AgentOutput]:
        pcm = ulaw.decode(raw) if self.input_codec == "ulaw" else raw[: len(raw) - len(raw) % 2]
        return [UserAudio(pcm, self.input_rate)] if pcm else []

    def _pong(self, event_id: int | None) -> None:
        sent = self._pings.pop(event_id, None) if event_id is not None else None
        if sent is not None:
            self.ping_ms = max(1, round((self.clock() - sent) * 1000))

    def _audio_out(self, pcm: bytes) -> bytes:
        return ulaw.encode(pcm) if self.output_codec == "ulaw" else pcm

    # ---- agent outputs ---------------------------------------------------------------------

    def encode(self, output: AgentOutput) -> list[Frame]:
        return [wire.encode(m) for m in self._messages(output) if m.TYPE in self.client_events
                or m.TYPE in ALWAYS_SENT]

    def _messages(self, output: AgentOutput) -> list[wire.Message]:
        match output:
            case Ready():
                return [self._metadata(output)]
            case AudioOut(pcm=pcm, turn=turn) if not self.text_only:
                return [wire.Audio(self._audio_out(pcm), self._turn_id(turn), self._alignment(output))]
            case TalkStart(turn=turn):
                self._turn_id(turn)
            case TextOut(text=text, turn=turn, phase=phase):
                if phase == "delta":
                    self._turn_text[turn] = self._turn_text.get(turn, "") + text
                return [wire.AgentChatResponsePart(text, phase, self._turn_id(turn))]
            case ReplyText(turn=turn, text=text) if self.reply_text_first:  # else: when the reply ends
                self._replied[turn] = text
                return [self._agent_response(turn, text)]
            case TranscriptOut():
                return self._transcript(output)
            case Interrupted():
                return self._interruption(output)
            case PingOut(event_id=event_id):
                self._pings[event_id] = self.clock()
                return [wire.Ping(event_id, self.ping_ms if self.ping_ms is not None else self.initial_ping_ms)]
            case ToolCallOut(call_id=call_id, name=name, arguments=arguments):
                self._event_id += 1
                return [wire.ClientToolCall(name, call_id, dict(arguments), self._event_id)]
            case ErrorOut():
                return [self._error(output)]
        return []  # TalkStop, TurnDone, Closing: no such message (closing is the socket close)

    def _agent_response(self, turn: int, text: str) -> wire.AgentResponse:
        return wire.AgentResponse(text, self._turn_id(turn))

    def _correction(self, turn: int, original: str, heard: str) -> list[wire.Message]:
        if not original or original == heard:
            return []
        return [wire.AgentResponseCorrection(original, heard, self._turn_id(turn))]

    def _interruption(self, output: Interrupted) -> list[wire.Message]:
        messages: list[wire.Message] = [wire.Interruption(self._turn_id(output.turn))]
        original = self._replied.pop(output.turn, None)
        if original is None:  # no agent_response yet: it follows with what was heard
            self._interrupted.add(output.turn)
            return messages
        self._finished.add(output.turn)
        self._turn_text.pop(output.turn, None)
        return messages + self._correction(output.turn, original.strip(), output.heard_text.strip())

    def _transcript(self, output: TranscriptOut) -> list[wire.Message]:
        if output.role == "user":
            if not output.final:
                return [wire.TentativeUserTranscript(output.text, self._event_id + 1)]
            self._event_id += 1
            return [wire.UserTranscript(output.text, self._event_id)]
        if not output.final:
            return []
        if output.turn in self._finished or self._replied.pop(output.turn, None) is not None:
            self._finished.discard(output.turn)
            self._turn_text.pop(output.turn, None)
            return []  # agent_response went with the first audio
        messages: list[wire.Message] = [self._agent_response(output.turn, output.text)]
        original = self._turn_text.pop(output.turn, "").strip()
        if output.turn in self._interrupted:
            messages += self._correction(output.turn, original, output.text)
        self._interrupted.discard(output.turn)
        return messages

    def _error(self, output: ErrorOut) -> wire.Error:
        code = 1008 if output.code in INPUT_ERRORS else 1011
        error_type = output.code if output.code in INPUT_ERRORS else "unknown"
        return wire.Error(code=code, error_type=error_type, message=output.message, reason=output.message)


@register
class ElevenLabsServer(ElevenLabsShaped):
    name: ClassVar[str] = "elevenlabs"
    path: ClassVar[str] = CONVERSATION_PATH
    initial_ping_ms = INITIAL_PING_MS
    aligned = True
    client_tools = True  # the engine may ask this client to run a tool (client_tool_call)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.client_events = AGENT_EVENTS

    @property
    def ready_on_open(self) -> bool:
        return False

    # ---- handshake -------------------------------------------------------------------------

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        q = request.query
        self.reply_text_first = LEGACY_ORDER not in self.variants
        self.agent_id = q.get("agent_id") or None
        offered = [p.strip() for p in request.headers.get("sec-websocket-protocol", "").split(",")]
        self.subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None  # the server answers it
        bearer = next((p.removeprefix("bearer.") for p in offered if p.startswith("bearer.")), None)
        token = q.get("token")
        if not token and bearer and not keys.valid_key(bearer):
            token = bearer  # not the API key: a signed URL's token, carried in the subprotocol
        if token:
            scope = keys.redeem_token(token)
            if scope is None or scope.get("dialect") != self.name or (
                    self.agent_id and scope.get("agent_id") != self.agent_id):
                return Reject(403, "the signed URL is invalid, expired or already used")
            self.agent_id = str(scope.get("agent_id"))
            self.conversation_id = scope.get("conversation_id") or None
        elif not bearer:  # a bearer that is the API key stands for the xi-api-key header
            header = xi_key(request.headers)
            if header is not None and not keys.valid_key(header):
                return Reject(401, "invalid xi-api-key")
            if header is None and not is_public(keys, self.agent_id):
                return Reject(403, "this agent is private: connect with a signed URL")
        if not self.agent_id:
            return Reject(400, "agent_id is required")
        if not keys.agent_exists(self.agent_id):
            return Reject(404, f"agent {self.agent_id} not found")
        for key in ("output_format", "input_format"):
            parsed = parse_format(q.get(key) or DEFAULT_FORMAT)
            if parsed is None:
                return Reject(400, f"unsupported {key}: {q.get(key)}")
            if key == "output_format":
                self.output_codec, self.output_rate = parsed
            else:
                self.input_codec, self.input_rate = parsed
        return None

    # ---- client frames ---------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        try:
            message = wire.parse_client(frame)
        except WireError as err:
            return [violation(err)]
        out: list[UserInput | AgentOutput] = []
        if not self.started:  # the first message starts the conversation, whatever it is
            self.started = True
            initiation = message if isinstance(message, wire.ConversationInitiation) else None
            out.append(self._ready(settings(initiation)))
        return out + self._message(message)

    def _ready(self, settings: Initiation) -> Ready:
        self.text_only = settings.text_only
        if settings.client_events is not None:
            self.client_events = settings.client_events
        return Ready(str(uuid.uuid4()), self.input_rate, self.output_rate, greeting=settings.greeting,
                     text_only=settings.text_only, prompt=settings.prompt, language=settings.language)

    def _message(self, message: wire.Message) -> list[UserInput | AgentOutput]:
        match message:
            case wire.UserAudioChunk(user_audio_chunk=raw):
                return self._audio_in(raw)
            case wire.UserMessage(text=text) | wire.MultimodalMessage(text=wire.MultimodalText(text=text)) if text:
                return [UserText(text)]
            case wire.ContextualUpdate(text=text) if text:
                return [UserContext(text)]
            case wire.Pong(event_id=event_id):
                self._pong(event_id)
                return [UserPong(event_id)]
            case wire.ClientToolResult(tool_call_id=call_id, result=result, is_error=is_error):
                return [UserToolResult(call_id, result, is_error)]
            case wire.UserActivity() if not self.text_only:
                return [UserHold(HOLD_MS)]
        return []  # feedback, mcp approvals, a repeated initiation, empty texts


register_http("GET", SIGNED_URL_PATH, get_signed_url)

