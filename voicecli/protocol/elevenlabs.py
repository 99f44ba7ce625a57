"""ElevenLabs Conversational AI (Agents) WebSocket, client side (PROTOCOLS.md section B).

Connection:

- public agent: ``wss://HOST/v1/convai/conversation?agent_id=ID&source=unknown&version=V``
  (``source`` takes a value of the vendor's ``ConversationInitiationSource`` enum);
- private agent (an API key is configured): ``prepare()`` asks
  ``GET /v1/convai/conversation/get-signed-url?agent_id=ID`` with ``xi-api-key`` and the
  socket goes to the returned ``signed_url``. When the configured URL is a loopback
  address, the signed URL's scheme and host are replaced by the configured ones, so a
  local test server can hand out its public-looking URL.

The first frame is ``conversation_initiation_client_data``; no audio is sent before
``conversation_initiation_metadata`` arrives (frames are dropped and counted in
:attr:`ElevenLabsAdapter.dropped_audio_frames`).

Options read from ``DialectConfig.options`` (all optional): those of the initiation
message (overrides, ``user_id``, ``custom_llm_extra_body``; see
:mod:`voicecli.protocol.elevenlabs_initiation`), and

``environment``, ``branch_id``, ``include_conversation_id``
    query parameters of the signed-URL request (``environment`` also of the socket URL)

``DialectConfig.variables`` become ``dynamic_variables``.

An ``audio`` message's ``alignment`` (the characters it speaks) is kept as the event's
``text``, so a cut reply's transcript can be cut where it was heard.

Push-to-talk: ``HoldTurn`` sends ``user_activity`` (the hosted service only resets its
turn timer with it) and again with every ``HOLD_BEAT_MS`` of audio sent until the
``CommitAudio`` of the release, which sends nothing; the local agent holds the user's
turn while these arrive. The hosted service's own turn detection still decides there.

Interruption follows the Python SDK: after ``interruption{event_id: N}`` every
``audio`` whose ``event_id <= N`` is dropped.

``agent_response`` (the whole reply text, sent with the first audio chunk) is reported
as an agent :class:`TranscriptFinal` that is not what was heard (``as_heard=False``: when it
comes after the reply was cut, the transcript's estimate of what was heard still applies); a
later ``agent_response_correction`` (when the reply was cut off, and the agent's
``client_events`` include it) as :class:`TranscriptCorrection`. The reply's ``event_id`` is the
events' ``turn``: text and audio of one reply share it, so the transcript keeps them
together in whatever order they arrive.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from voicecli import __version__
from voicecli.errors import AuthError, NotFoundError, ProtocolError, UsageError
from voicecli.protocol.base import (
    Capabilities,
    DialectConfig,
    Frame,
    Handshake,
    HttpRequest,
    default_handshake_error,
    http_url,
    is_loopback,
    parse_json,
    split_base,
    unknown_from,
    ws_url,
)
from voicecli.protocol.closing import unexpected_close
from voicecli.protocol.commands import (
    Close,
    Command,
    CommitAudio,
    ContextUpdate,
    HoldTurn,
    Pong,
    SendAudio,
    SendText,
    SendToolResult,
    UserActivity,
)
from voicecli.protocol.convai import ConvaiAdapter, Phase
from voicecli.protocol.convai import parse_format as parse_format  # re-exported
from voicecli.protocol.elevenlabs_initiation import initiation_message
from voicecli.protocol.events import (
    AudioFormat,
    Event,
    Ping,
    SessionEnded,
    TextDelta,
    ToolCall,
    ToolResult,
    TranscriptCorrection,
    TranscriptDelta,
    TranscriptFinal,
    TurnComplete,
    Unknown,
    VadScore,
)
from voicecli.protocol.wire import Unhandled, WireError
from voicecli.protocol.wire import elevenlabs as wire

CONVERSATION_PATH = "/v1/convai/conversation"
SIGNED_URL_PATH = "/v1/convai/conversation/get-signed-url"
# the client's kind, from the vendor's ConversationInitiationSource enum (the official
# SDKs send python_sdk, js_sdk, ...): a terminal client is none of them
SOURCE = "unknown"
DEFAULT_FORMAT = "pcm_16000"
TEXT_MODES = ("text", "chat")
HOLD_BEAT_MS = 200  # push-to-talk: a user_activity with every this much audio while held

# close code -> (what happened, retryable)
CLOSE_CODES: dict[int, tuple[str, bool]] = {
    1002: ("ElevenLabs ended the session after a protocol or operational error "
           "(timeout, policy violation, or an LLM/TTS/ASR failure)", False),
    1008: ("ElevenLabs rejected the session input (invalid message, auth, an override not "
           "enabled in the agent's security settings, or a missing dynamic variable)", False),
    1011: ("ElevenLabs had an internal server error", True),
}


class ElevenLabsAdapter(ConvaiAdapter):
    name: ClassVar[str] = "elevenlabs"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text_input=True, interruption_signal=True, client_interrupt=False,
        client_turns=False, context_update=True, keepalive=True, transcripts=True, turn_hold="local")
    known_hosts: ClassVar[tuple[str, ...]] = (
        "api.elevenlabs.io", "api.us.elevenlabs.io", "api.eu.residency.elevenlabs.io",
        "api.in.residency.elevenlabs.io")

    def __init__(self, config: DialectConfig) -> None:
        super().__init__(config, AudioFormat("pcm16", 16000))
        self.options = dict(config.options)
        self.text_only = bool(self.options.get("text_only")) or (config.mode in TEXT_MODES)
        if config.mode is not None and config.mode not in TEXT_MODES + ("voice", "webcall"):
            raise UsageError(f"elevenlabs mode must be voice or text; got {config.mode!r}")
        self._signed_url: str | None = None
        self._last_interrupt_id = 0  # as the Python SDK: audio with an id <= 0 is never played
        self._held: int | None = None  # push-to-talk: bytes of audio sent since the last beat

    # ---- pre-connect --------------------------------------------------------------------

    def _agent_id(self) -> str | None:
        if self.config.agent_id:
            return self.config.agent_id
        query = dict(parse_qsl(urlsplit(self.config.url).query))
        return query.get("agent_id")

    def _require_agent(self) -> str:
        agent = self._agent_id()
        if not agent:
            raise UsageError("elevenlabs needs an agent id: pass --agent ID")
        return agent

    def prepare(self) -> HttpRequest | None:
        if not self.config.api_key or self._signed_url is not None:
            return None
        query: dict[str, Any] = {"agent_id": self._require_agent()}
        for key in ("include_conversation_id", "branch_id", "environment"):
            value = self.options.get(key)
            if value is None:
                continue
            query[key] = ("true" if value else "false") if isinstance(value, bool) else value
        url = http_url(self.config.url, SIGNED_URL_PATH) + "?" + urlencode(query)
        headers = {"xi-api-key": self.config.api_key.reveal(), "Accept": "application/json"}
        return HttpRequest("GET", url, headers, None, purpose="signed URL request")

    def on_http_response(self, status: int, body: bytes) -> None:
        if status in (401, 403):
            raise AuthError(f"ElevenLabs refused the API key for the signed URL (HTTP {status}); "
                            "check ELEVENLABS_API_KEY")
        if status in (404, 422):
            raise NotFoundError(f"ElevenLabs has no agent {self._agent_id()!r} (HTTP {status})")
        if status != 200:
            raise default_handshake_error(status, body, "the ElevenLabs signed-URL endpoint")
        try:
            signed = parse_json(body)["signed_url"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError("the ElevenLabs signed-URL answer has no signed_url") from exc
        if not isinstance(signed, str) or not signed.startswith(("ws://", "wss://")):
            raise ProtocolError("the ElevenLabs signed URL is not a ws(s):// URL")
        token = dict(parse_qsl(urlsplit(signed).query)).get("token")
        if token:
            from voicecli.secrets import register

            register(token)
        self._signed_url = signed

    def handshake(self) -> Handshake:
        if self._signed_url is not None:
            url = self._signed_url
            if is_loopback(self.config.url):
                url = _rebase(url, self.config.url)
            url = _add_query(url, {"source": SOURCE, "version": __version__})
        else:
            query: dict[str, Any] = {}
            if "agent_id" not in urlsplit(self.config.url).query:
                query["agent_id"] = self._require_agent()
            query["source"] = SOURCE
            query["version"] = __version__
            if self.options.get("environment"):
                query["environment"] = self.options["environment"]
            url = ws_url(self.config.url, CONVERSATION_PATH, query)
        return Handshake(url=url, headers=dict(self.config.headers),
                         initial_frames=(json.dumps(self.initiation_message()),))

    def initiation_message(self) -> dict[str, Any]:
        """The ``conversation_initiation_client_data`` message built from the config."""
        return initiation_message(self.options, self.config.variables, self.text_only)

    def handshake_error(self, status: int, body: bytes) -> Exception:
        if status in (401, 403):
            hint = ("the signed URL was refused or expired" if self._signed_url
                    else "the agent is private: set ELEVENLABS_API_KEY to get a signed URL")
            return AuthError(f"ElevenLabs refused the connection (HTTP {status}): {hint}")
        if status == 404:
            return NotFoundError(f"ElevenLabs has no agent {self._agent_id()!r} (HTTP 404)")
        return default_handshake_error(status, body, "the ElevenLabs server")

    # ---- frames -------------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[Event]:
        try:
            message = wire.parse_server(frame)
        except WireError as err:
            if err.message_type == wire.ConversationMetadata.TYPE and (err.field or "").endswith("_format"):
                return [self._unsupported_format(err.problem)]
            return [unknown_from(err, frame)]
        events = self._stateful(message)
        return events if events is not None else _events(message, frame)

    def _stateful(self, message: wire.Message) -> list[Event] | None:
        """Events of the messages that change the adapter's state (None for the others)."""
        match message:
            case wire.ConversationMetadata():
                cid = message.conversation_id or None
                return self._session_started(message.agent_output_audio_format, message.user_input_audio_format,
                                             cid, text_only=self.text_only)
            case wire.Audio(audio_base_64=data, event_id=event_id, alignment=timing):
                spoken = "".join(timing.chars) if timing is not None else None
                audio = self._agent_audio(data, event_id, spoken)
                return [audio] if audio is not None else []
            case wire.Interruption(event_id=event_id):
                return self._interruption(event_id)
            case wire.Error(error_type=error_type, code=code):
                kind = error_type or (str(code) if code is not None else "") or "error"
                text = message.message or message.reason or message.debug_message or kind
                return self._fatal_error(kind, text)
        return None

    def _audio_allowed(self) -> bool:
        return self.ready and not self.text_only

    def encode(self, command: Command) -> list[Frame]:
        match command:
            case SendAudio(pcm=pcm):
                return self._user_audio(pcm) + self._hold_beat(len(pcm))
            case HoldTurn() if not self.text_only:
                self._held = 0
                return [wire.encode(wire.UserActivity())]
            case CommitAudio():
                self._held = None
                return []  # the server's VAD ends turns; the beats stop
            case Close():
                self.phase = Phase.CLOSING
                return []  # no end message: the session closes the socket with 1000
        message = _message(command)
        return [wire.encode(message)] if message is not None else []

    def _hold_beat(self, size: int) -> list[Frame]:
        if self._held is None or not self._audio_allowed():
            return []
        self._held += size
        if self._held < self.input_format.sample_rate * 2 * HOLD_BEAT_MS // 1000:
            return []
        self._held = 0
        return [wire.encode(wire.UserActivity())]

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        err = self._last_error
        detail = (err.message if err else "") or reason
        if code in (1000, 1001):
            if self.phase is Phase.CLOSING:
                return [SessionEnded(reason="ended by the user", close_code=code)]
            if err is not None and err.code == "max_duration_exceeded":
                return [SessionEnded(reason="the maximum call duration was reached", close_code=code)]
            return [SessionEnded(reason=reason or "the agent ended the conversation", close_code=code)]
        if code in CLOSE_CODES:
            what, retryable = CLOSE_CODES[code]
            message = f"{what} (code {code})" + (f": {detail}" if detail else "")
            return [SessionEnded(reason=reason or what, close_code=code, retryable=retryable, error=message)]
        if self.phase is Phase.CLOSING and code is None:
            return [SessionEnded(reason="ended by the user", close_code=code)]
        return [unexpected_close(self.name, code, reason, detail)]


def _rebase(url: str, base: str) -> str:
    """``url`` with its scheme and host taken from ``base`` (ws/wss by base's security)."""
    target = urlsplit(url)
    _http, ws, _path = split_base(base)
    ws_parts = urlsplit(ws)
    return urlunsplit((ws_parts.scheme, ws_parts.netloc, target.path, target.query, target.fragment))


def _add_query(url: str, items: dict[str, str]) -> str:
    parts = urlsplit(url)
    present = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = {k: v for k, v in items.items() if k not in present}
    if not extra:
        return url
    query = parts.query + ("&" if parts.query else "") + urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _events(message: wire.Message, frame: Frame) -> list[Event]:
    """Events of the messages that leave the adapter's state alone."""
    match message:
        case wire.AgentResponse(agent_response=text, event_id=event_id):
            # the whole reply as written, not as heard: after a cut the estimate applies to it
            return [TranscriptFinal(role="agent", text=text, event_id=event_id, turn=event_id, as_heard=False)]
        case wire.AgentResponseCorrection(event_id=event_id):
            return [TranscriptCorrection(original=message.original_agent_response,
                                         corrected=message.corrected_agent_response, event_id=event_id, turn=event_id)]
        case wire.AgentChatResponsePart() | wire.AgentReasoningResponsePart():
            return [_text_part(message)]
        case wire.TentativeUserTranscript(user_transcript=text, event_id=event_id):
            return [TranscriptDelta(role="user", text=text, cumulative=True, event_id=event_id)]
        case wire.UserTranscript(user_transcript=text, event_id=event_id):
            return [TranscriptFinal(role="user", text=text, event_id=event_id)]
        case wire.TentativeAgentResponse(tentative_agent_response=text):
            return [TranscriptDelta(role="agent", text=text, cumulative=True)]
        case wire.Ping(event_id=event_id, ping_ms=ping_ms):
            return [Ping(event_id=event_id, ping_ms=ping_ms)]
        case wire.VadScore(vad_score=score):
            return [VadScore(score=score)]
        case wire.ClientToolCall(tool_call_id=call_id, tool_name=name, parameters=params):
            return [ToolCall(call_id=call_id, name=name, arguments=params or {}, client_side=True)]
        case wire.AgentToolRequest(tool_type="client"):
            return []  # announced again as client_tool_call
        case wire.AgentToolRequest(tool_call_id=call_id, tool_name=name):
            return [ToolCall(call_id=call_id, name=name, client_side=False)]
        case wire.AgentToolResponse(tool_call_id=call_id, tool_name=name, is_error=is_error):
            return [ToolResult(call_id=call_id, name=name, is_error=is_error)]
        case wire.AgentResponseComplete():
            return [TurnComplete()]
        case Unhandled(name=name):
            return [Unknown(type=name, raw=frame)]
    return [Unknown(type=message.TYPE, raw=frame)]  # pragma: no cover - every message is matched


def _text_part(part: wire.AgentChatResponsePart | wire.AgentReasoningResponsePart) -> TextDelta:
    phase: Literal["start", "delta", "stop"] = "delta"
    if part.phase in ("start", "stop"):
        phase = "start" if part.phase == "start" else "stop"
    chat = isinstance(part, wire.AgentChatResponsePart)
    turn = part.event_id if isinstance(part.event_id, int) else None
    return TextDelta(text=part.text, phase=phase, kind="text" if chat else "reasoning", turn=turn)


def _message(command: Command) -> wire.Message | None:
    """The client message of a command that leaves the adapter's state alone (None: nothing)."""
    match command:
        case SendText(text=text) if text:
            return wire.UserMessage(text=text)
        case Pong(event_id=event_id) if event_id is not None:
            return wire.Pong(event_id=event_id)
        case ContextUpdate(text=text) if text:
            return wire.ContextualUpdate(text=text)
        case UserActivity():
            return wire.UserActivity()
        case SendToolResult(call_id=call_id, result=result, is_error=is_error):
            text = result if isinstance(result, str) else json.dumps(result)
            return wire.ClientToolResult(tool_call_id=call_id, result=text, is_error=bool(is_error))
    return None  # Interrupt: no such message; empty texts and pongs without an id: nothing
