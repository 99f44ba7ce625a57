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

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from voicecli.agent.dialects import register, register_http
from voicecli.agent.dialects._alignment import alignment
from voicecli.agent.dialects._elevenlabs_auth import (
    CONVERSATION_PATH,
    SIGNED_URL_PATH,
    get_signed_url,
    is_public,
    xi_key,
)
from voicecli.agent.dialects._elevenlabs_overrides import Initiation, read_initiation
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ErrorOut,
    Frame,
    Interrupted,
    KeyCheck,
    PingOut,
    ProtocolViolation,
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

SUBPROTOCOL = "convai"
HOLD_MS = 400  # a user_activity holds the turn for this much user audio (clients: every 200 ms)
PING_INTERVAL_S = 5.0
INITIAL_PING_MS = 50  # ping_ms before a pong was measured: a plausible round trip
LEGACY_ORDER = "legacy-order"  # variant: agent_response at the end of a reply
DEFAULT_FORMAT = "pcm_16000"
PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
DEFAULT_CLIENT_EVENTS = frozenset({
    "audio", "interruption", "agent_response", "user_transcript", "tentative_user_transcript",
    "conversation_initiation_metadata", "ping",
})
AGENT_EVENTS = DEFAULT_CLIENT_EVENTS | {"client_tool_call"}  # the local agent's configured events
CLIENT_TYPES = frozenset({
    "conversation_initiation_client_data", "pong", "user_message", "user_activity", "contextual_update",
    "client_tool_result", "feedback", "mcp_tool_approval_result", "multimodal_message"})
# ErrorOut codes -> WebSocket close code in error_event.code
INPUT_ERRORS = frozenset({"invalid_message", "override_error", "missing_fields", "value_error",
                          "missing_dynamic_variable", "invalid_event"})


def parse_format(value: str) -> tuple[str, int] | None:
    """``pcm_16000`` → ("pcm", 16000); ``ulaw_8000`` → ("ulaw", 8000); else None."""
    codec, _, rate_text = value.partition("_")
    if not rate_text.isdigit():
        return None
    rate = int(rate_text)
    if (codec == "pcm" and rate in PCM_RATES) or (codec == "ulaw" and rate == 8000):
        return codec, rate
    return None


def _dumps(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


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

    def _metadata(self, output: Ready) -> dict[str, Any]:
        return {"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": {
            "conversation_id": self.conversation_id or f"conv_{output.session_id.replace('-', '')[:24]}",
            "agent_output_audio_format": f"{self.output_codec}_{self.output_rate}",
            "user_input_audio_format": f"{self.input_codec}_{self.input_rate}"}}

    def _turn_id(self, turn: int) -> int:
        if turn not in self._turn_ids:
            self._event_id += 1
            self._turn_ids[turn] = self._event_id
        return self._turn_ids[turn]

    def _alignment(self, output: AudioOut) -> dict[str, Any] | None:
        if not output.text or not output.length:
            return None
        previous = self._sentences.get(output.turn)
        self._sentences[output.turn] = output.text
        lead = output.offset == 0 and previous is not None
        return alignment(output.text, output.offset, output.length, len(output.pcm), self.output_rate, lead)

    def _audio_in(self, data: Any) -> list[UserInput | AgentOutput]:
        if not isinstance(data, str):
            return [ProtocolViolation("user_audio_chunk must be a base64 string", "invalid_message", 1008)]
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return [ProtocolViolation("user_audio_chunk is not valid base64", "invalid_message", 1008)]
        pcm = ulaw.decode(raw) if self.input_codec == "ulaw" else raw[: len(raw) - len(raw) % 2]
        return [UserAudio(pcm, self.input_rate)] if pcm else []

    def _pong(self, event_id: int | None) -> None:
        sent = self._pings.pop(event_id, None) if event_id is not None else None
        if sent is not None:
            self.ping_ms = max(1, round((self.clock() - sent) * 1000))

    def _audio_out(self, pcm: bytes) -> str:
        data = ulaw.encode(pcm) if self.output_codec == "ulaw" else pcm
        return base64.b64encode(data).decode("ascii")

    # ---- agent outputs ---------------------------------------------------------------------

    def encode(self, output: AgentOutput) -> list[Frame]:
        return [_dumps(m) for m in self._messages(output) if m["type"] in self.client_events
                or m["type"] in ("conversation_initiation_metadata", "error")]

    def _messages(self, output: AgentOutput) -> list[dict[str, Any]]:
        if isinstance(output, Ready):
            return [self._metadata(output)]
        if isinstance(output, AudioOut):
            if self.text_only:
                return []
            event: dict[str, Any] = {"audio_base_64": self._audio_out(output.pcm),
                                     "event_id": self._turn_id(output.turn)}
            timing = self._alignment(output) if self.aligned else None
            if timing is not None:
                event["alignment"] = timing
            return [{"type": "audio", "audio_event": event}]
        if isinstance(output, TalkStart):
            self._turn_id(output.turn)
            return []
        if isinstance(output, TextOut):
            if output.phase == "delta":
                self._turn_text[output.turn] = self._turn_text.get(output.turn, "") + output.text
            return [{"type": "agent_chat_response_part", "text_response_part": {
                "text": output.text, "type": output.phase, "event_id": self._turn_id(output.turn)}}]
        if isinstance(output, ReplyText):
            if not self.reply_text_first:
                return []  # the legacy order: agent_response when the reply ends
            self._replied[output.turn] = output.text
            return [self._agent_response(output.turn, output.text)]
        if isinstance(output, TranscriptOut):
            return self._transcript(output)
        if isinstance(output, Interrupted):
            return self._interruption(output)
        if isinstance(output, PingOut):
            self._pings[output.event_id] = self.clock()
            ping_ms = self.ping_ms if self.ping_ms is not None else self.initial_ping_ms
            return [{"type": "ping", "ping_event": {"event_id": output.event_id, "ping_ms": ping_ms}}]
        if isinstance(output, ToolCallOut):
            self._event_id += 1
            return [{"type": "client_tool_call", "client_tool_call": {
                "tool_name": output.name, "tool_call_id": output.call_id,
                "parameters": dict(output.arguments), "event_id": self._event_id}}]
        if isinstance(output, ErrorOut):
            return [self._error(output)]
        return []  # TalkStop, TurnDone, Closing: no such message (closing is the socket close)

    def _agent_response(self, turn: int, text: str) -> dict[str, Any]:
        return {"type": "agent_response", "agent_response_event": {"agent_response": text,
                                                                   "event_id": self._turn_id(turn)}}

    def _correction(self, turn: int, original: str, heard: str) -> list[dict[str, Any]]:
        if not original or original == heard:
            return []
        return [{"type": "agent_response_correction", "agent_response_correction_event": {
            "original_agent_response": original, "corrected_agent_response": heard,
            "event_id": self._turn_id(turn)}}]

    def _interruption(self, output: Interrupted) -> list[dict[str, Any]]:
        messages = [{"type": "interruption", "interruption_event": {"event_id": self._turn_id(output.turn)}}]
        original = self._replied.pop(output.turn, None)
        if original is None:  # no agent_response yet: it follows with what was heard
            self._interrupted.add(output.turn)
            return messages
        self._finished.add(output.turn)
        self._turn_text.pop(output.turn, None)
        return messages + self._correction(output.turn, original.strip(), output.heard_text.strip())

    def _transcript(self, output: TranscriptOut) -> list[dict[str, Any]]:
        if output.role == "user":
            if not output.final:
                return [{"type": "tentative_user_transcript", "tentative_user_transcription_event": {
                    "user_transcript": output.text, "event_id": self._event_id + 1}}]
            self._event_id += 1
            return [{"type": "user_transcript", "user_transcription_event": {
                "user_transcript": output.text, "event_id": self._event_id}}]
        if not output.final:
            return []
        if output.turn in self._finished or self._replied.pop(output.turn, None) is not None:
            self._finished.discard(output.turn)
            self._turn_text.pop(output.turn, None)
            return []  # agent_response went with the first audio
        messages = [self._agent_response(output.turn, output.text)]
        original = self._turn_text.pop(output.turn, "").strip()
        if output.turn in self._interrupted:
            messages += self._correction(output.turn, original, output.text)
        self._interrupted.discard(output.turn)
        return messages

    def _error(self, output: ErrorOut) -> dict[str, Any]:
        code = 1008 if output.code in INPUT_ERRORS else 1011
        error_type = output.code if output.code in INPUT_ERRORS else "unknown"
        return {"type": "error", "error_event": {"code": code, "error_type": error_type,
                                                 "message": output.message, "reason": output.message}}


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
            message = json.loads(frame)
        except (ValueError, UnicodeDecodeError):
            return [ProtocolViolation("the message is not valid JSON", "invalid_message", 1008)]
        if not isinstance(message, dict):
            return [ProtocolViolation("the message is not a JSON object", "invalid_message", 1008)]
        kind = message.get("type")
        if kind is None and "user_audio_chunk" in message:
            kind = "user_audio_chunk"
        if kind not in CLIENT_TYPES and kind != "user_audio_chunk":
            return [ProtocolViolation(f"unknown message type: {str(kind)[:60]}", "invalid_message", 1008)]
        out: list[UserInput | AgentOutput] = []
        if not self.started:
            self.started = True
            settings = Initiation()
            if kind == "conversation_initiation_client_data":
                read = read_initiation(message)
                if isinstance(read, ProtocolViolation):
                    return [read]
                settings = read
            out.append(self._ready(settings))
            if kind == "conversation_initiation_client_data":
                return out
        return out + self._message(kind, message)

    def _ready(self, settings: Initiation) -> Ready:
        self.text_only = settings.text_only
        if settings.client_events is not None:
            self.client_events = settings.client_events
        return Ready(str(uuid.uuid4()), self.input_rate, self.output_rate, greeting=settings.greeting,
                     text_only=settings.text_only, prompt=settings.prompt, language=settings.language)

    def _message(self, kind: str, m: dict[str, Any]) -> list[UserInput | AgentOutput]:
        if kind == "user_audio_chunk":
            return self._audio_in(m.get("user_audio_chunk"))
        if kind == "user_message":
            text = m.get("text")
            if text is not None and not isinstance(text, str):
                return [ProtocolViolation("text must be a string", "invalid_message", 1008)]
            return [UserText(text)] if text else []
        if kind == "multimodal_message":
            part = m.get("text")
            text = part.get("text") if isinstance(part, dict) else None
            return [UserText(text)] if isinstance(text, str) and text else []
        if kind == "contextual_update":
            text = m.get("text")
            if not isinstance(text, str):
                return [ProtocolViolation("contextual_update needs text", "missing_fields", 1008)]
            return [UserContext(text)] if text else []
        if kind == "pong":
            event_id = m.get("event_id")
            pong = UserPong(event_id if isinstance(event_id, int) and not isinstance(event_id, bool) else None)
            self._pong(pong.event_id)
            return [pong]
        if kind == "client_tool_result":
            call_id, result = m.get("tool_call_id"), m.get("result")
            if not isinstance(call_id, str):
                return [ProtocolViolation("client_tool_result needs tool_call_id", "missing_fields", 1008)]
            return [UserToolResult(call_id, result, bool(m.get("is_error")))]
        if kind == "user_activity":
            return [UserHold(HOLD_MS)] if not self.text_only else []
        return []  # feedback, mcp approvals, a repeated initiation


register_http("GET", SIGNED_URL_PATH, get_signed_url)

