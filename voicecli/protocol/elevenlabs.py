"""ElevenLabs Conversational AI (Agents) WebSocket, client side (PROTOCOLS.md section B).

Connection:

- public agent: ``wss://HOST/v1/convai/conversation?agent_id=ID&source=voicecli&version=V``;
- private agent (an API key is configured): ``prepare()`` asks
  ``GET /v1/convai/conversation/get-signed-url?agent_id=ID`` with ``xi-api-key`` and the
  socket goes to the returned ``signed_url``. When the configured URL is a loopback
  address, the signed URL's scheme and host are replaced by the configured ones, so a
  local test server can hand out its public-looking URL.

The first frame is ``conversation_initiation_client_data``; no audio is sent before
``conversation_initiation_metadata`` arrives (frames are dropped and counted in
:attr:`ElevenLabsAdapter.dropped_audio_frames`).

Options read from ``DialectConfig.options`` (all optional):

``prompt``, ``llm``, ``first_message``, ``language``
    ``conversation_config_override.agent`` (``prompt``/``llm`` go to ``agent.prompt``)
``voice_id``, ``stability``, ``speed``, ``similarity_boost``
    ``conversation_config_override.tts``
``keywords``
    ``conversation_config_override.asr.keywords`` (a list, or a comma-separated string)
``text_only``, ``client_events``
    ``conversation_config_override.conversation`` (``mode = "text"`` or ``"chat"`` also
    sets ``text_only``)
``user_id``, ``custom_llm_extra_body``
    top-level fields of the initiation message
``environment``, ``branch_id``, ``include_conversation_id``
    query parameters of the signed-URL request (``environment`` also of the socket URL)

``DialectConfig.variables`` become ``dynamic_variables``. Every override must be
enabled in the agent's security settings, or the server closes with 1008.

Interruption follows the Python SDK: after ``interruption{event_id: N}`` every
``audio`` whose ``event_id <= N`` is dropped.

``agent_response`` (the whole reply text, sent with the first audio chunk) is reported
as an agent :class:`TranscriptFinal`; a later ``agent_response_correction`` (when the
reply was cut off) as :class:`TranscriptCorrection`.
"""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from voicecli import __version__
from voicecli.errors import AuthError, NotFoundError, ProtocolError, UsageError
from voicecli.protocol import ulaw
from voicecli.protocol.base import (
    Capabilities,
    DialectConfig,
    Frame,
    Handshake,
    HttpRequest,
    JsonAdapter,
    default_handshake_error,
    http_url,
    is_loopback,
    split_base,
    ws_url,
)
from voicecli.protocol.commands import (
    Close,
    Command,
    ContextUpdate,
    Pong,
    SendAudio,
    SendText,
    SendToolResult,
    UserActivity,
)
from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    ErrorEvent,
    Event,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
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

CONVERSATION_PATH = "/v1/convai/conversation"
SIGNED_URL_PATH = "/v1/convai/conversation/get-signed-url"
SOURCE = "voicecli"
DEFAULT_FORMAT = "pcm_16000"
FORMAT_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
TEXT_MODES = ("text", "chat")

_AGENT_KEYS = ("first_message", "language")
_PROMPT_KEYS = ("prompt", "llm")
_TTS_KEYS = ("voice_id", "stability", "speed", "similarity_boost")

# close code -> (what happened, retryable)
CLOSE_CODES: dict[int, tuple[str, bool]] = {
    1002: ("ElevenLabs ended the session after a protocol or operational error "
           "(timeout, policy violation, or an LLM/TTS/ASR failure)", False),
    1008: ("ElevenLabs rejected the session input (invalid message, auth, an override not "
           "enabled in the agent's security settings, or a missing dynamic variable)", False),
    1011: ("ElevenLabs had an internal server error", True),
}


def parse_format(value: Any) -> AudioFormat:
    """``pcm_16000`` → pcm16@16000, ``ulaw_8000`` → ulaw@8000. Raises ValueError."""
    if not isinstance(value, str) or "_" not in value:
        raise ValueError(f"not an audio format: {value!r}")
    codec, _, rate_text = value.partition("_")
    rate = int(rate_text)
    if codec == "pcm" and rate in FORMAT_RATES:
        return AudioFormat("pcm16", rate)
    if codec == "ulaw" and rate == 8000:
        return AudioFormat("ulaw", rate)
    raise ValueError(f"unsupported audio format: {value!r}")


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_value(value: Any) -> str | int | float | bool:
    """dynamic_variables accept strings, numbers and booleans only."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, separators=(",", ":"))


class ElevenLabsAdapter(JsonAdapter):
    name: ClassVar[str] = "elevenlabs"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text_input=True, interruption_signal=True, client_interrupt=False,
        client_turns=False, context_update=True, keepalive=True, transcripts=True)
    known_hosts: ClassVar[tuple[str, ...]] = (
        "api.elevenlabs.io", "api.us.elevenlabs.io", "api.eu.residency.elevenlabs.io",
        "api.in.residency.elevenlabs.io")

    def __init__(self, config: DialectConfig) -> None:
        super().__init__(config)
        split_base(config.url)  # validates the URL early
        self.options = dict(config.options)
        self.text_only = bool(self.options.get("text_only")) or (config.mode in TEXT_MODES)
        if config.mode is not None and config.mode not in TEXT_MODES + ("voice", "webcall"):
            raise UsageError(f"elevenlabs mode must be voice or text; got {config.mode!r}")
        self._signed_url: str | None = None
        self.ready = False
        self.input_format = AudioFormat("pcm16", 16000)
        self.output_format = AudioFormat("pcm16", 16000)
        self.conversation_id: str | None = None
        self.dropped_audio_frames = 0
        self.dropped_audio_events = 0
        self._last_interrupt_id = 0
        self._last_error: ErrorEvent | None = None
        self._client_closing = False

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
            signed = json.loads(body)["signed_url"]
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
        o = self.options
        agent: dict[str, Any] = {k: o[k] for k in _AGENT_KEYS if o.get(k) is not None}
        prompt = {k: o[k] for k in _PROMPT_KEYS if o.get(k) is not None}
        if prompt:
            agent["prompt"] = prompt
        tts = {k: (float(o[k]) if k != "voice_id" else str(o[k]))
               for k in _TTS_KEYS if o.get(k) is not None}
        asr: dict[str, Any] = {}
        keywords = o.get("keywords")
        if isinstance(keywords, str):
            keywords = [k.strip() for k in keywords.split(",") if k.strip()]
        if keywords:
            asr["keywords"] = [str(k) for k in keywords]
        conversation: dict[str, Any] = {}
        if self.text_only:
            conversation["text_only"] = True
        events = o.get("client_events")
        if isinstance(events, str):
            events = [e.strip() for e in events.split(",") if e.strip()]
        if events:
            conversation["client_events"] = [str(e) for e in events]
        override: dict[str, Any] = {}
        for key, part in (("agent", agent), ("tts", tts), ("asr", asr), ("conversation", conversation)):
            if part:
                override[key] = part
        message: dict[str, Any] = {"type": "conversation_initiation_client_data"}
        if override:
            message["conversation_config_override"] = override
        if isinstance(o.get("custom_llm_extra_body"), dict):
            message["custom_llm_extra_body"] = o["custom_llm_extra_body"]
        if self.config.variables:
            message["dynamic_variables"] = {str(k): _json_value(v) for k, v in self.config.variables.items()}
        if o.get("user_id") is not None:
            message["user_id"] = str(o["user_id"])
        return message

    def handshake_error(self, status: int, body: bytes) -> Exception:
        if status in (401, 403):
            hint = ("the signed URL was refused or expired" if self._signed_url
                    else "the agent is private: set ELEVENLABS_API_KEY to get a signed URL")
            return AuthError(f"ElevenLabs refused the connection (HTTP {status}): {hint}")
        if status == 404:
            return NotFoundError(f"ElevenLabs has no agent {self._agent_id()!r} (HTTP 404)")
        return default_handshake_error(status, body, "the ElevenLabs server")

    # ---- frames -------------------------------------------------------------------------

    def dispatch(self, kind: str, m: dict[str, Any]) -> list[Event]:
        if kind == "audio":
            ev = m["audio_event"]
            event_id = _int_or_none(ev.get("event_id"))
            data = base64.b64decode(ev["audio_base_64"], validate=True)
            if event_id is not None and event_id <= self._last_interrupt_id:
                self.dropped_audio_events += 1
                return []
            fmt = self.output_format
            if fmt.encoding == "ulaw":
                data = ulaw.decode(data)
                fmt = AudioFormat("pcm16", fmt.sample_rate)
            return [AgentAudio(data=data, format=fmt, event_id=event_id)]
        if kind == "ping":
            ev = m["ping_event"]
            return [Ping(event_id=_int_or_none(ev["event_id"]), ping_ms=_int_or_none(ev.get("ping_ms")))]
        if kind == "interruption":
            ev = m.get("interruption_event") or {}
            if not isinstance(ev, dict):
                raise TypeError("interruption_event is not an object")
            event_id = _int_or_none(ev.get("event_id"))  # without an id: flush, drop nothing
            if event_id is not None:
                self._last_interrupt_id = max(self._last_interrupt_id, event_id)
            return [Interruption(event_id=event_id)]
        if kind == "conversation_initiation_metadata":
            ev = m["conversation_initiation_metadata_event"]
            try:
                out_fmt = parse_format(ev.get("agent_output_audio_format", DEFAULT_FORMAT))
                in_fmt = parse_format(ev.get("user_input_audio_format", DEFAULT_FORMAT))
            except ValueError as exc:
                return [ErrorEvent(code="unsupported_format", message=str(exc), fatal=True)]
            self.input_format, self.output_format = in_fmt, out_fmt
            self.conversation_id = str(ev["conversation_id"]) if ev.get("conversation_id") else None
            self.ready = True
            return [SessionStarted(input_format=in_fmt, output_format=out_fmt,
                                   conversation_id=self.conversation_id,
                                   details={"text_only": self.text_only})]
        if kind == "agent_response":
            ev = m["agent_response_event"]
            return [TranscriptFinal(role="agent", text=str(ev["agent_response"]),
                                    event_id=_int_or_none(ev.get("event_id")))]
        if kind == "agent_response_correction":
            ev = m["agent_response_correction_event"]
            return [TranscriptCorrection(original=str(ev["original_agent_response"]),
                                         corrected=str(ev["corrected_agent_response"]),
                                         event_id=_int_or_none(ev.get("event_id")))]
        if kind in ("agent_chat_response_part", "agent_reasoning_response_part"):
            key = "text_response_part" if kind == "agent_chat_response_part" else "reasoning_response_part"
            ev = m[key]
            phase = ev.get("type", "delta")
            if phase not in ("start", "delta", "stop"):
                phase = "delta"
            return [TextDelta(text=str(ev.get("text") or ""), phase=phase,
                              kind="text" if kind == "agent_chat_response_part" else "reasoning")]
        if kind == "tentative_user_transcript":
            ev = m["tentative_user_transcription_event"]
            return [TranscriptDelta(role="user", text=str(ev["user_transcript"]), cumulative=True,
                                    event_id=_int_or_none(ev.get("event_id")))]
        if kind == "user_transcript":
            ev = m["user_transcription_event"]
            return [TranscriptFinal(role="user", text=str(ev["user_transcript"]),
                                    event_id=_int_or_none(ev.get("event_id")))]
        if kind == "internal_tentative_agent_response":
            ev = m["tentative_agent_response_internal_event"]
            return [TranscriptDelta(role="agent", text=str(ev["tentative_agent_response"]), cumulative=True)]
        if kind == "vad_score":
            return [VadScore(score=float(m["vad_score_event"]["vad_score"]))]
        if kind == "client_tool_call":
            ev = m["client_tool_call"]
            params = ev.get("parameters") or {}
            if not isinstance(params, dict):
                raise TypeError("parameters is not an object")
            return [ToolCall(call_id=str(ev["tool_call_id"]), name=str(ev["tool_name"]),
                             arguments=params, client_side=True)]
        if kind == "agent_tool_request":
            ev = m["agent_tool_request"]
            if ev.get("tool_type") == "client":
                return []  # announced again as client_tool_call
            return [ToolCall(call_id=str(ev["tool_call_id"]), name=str(ev["tool_name"]), client_side=False)]
        if kind == "agent_tool_response":
            ev = m["agent_tool_response"]
            return [ToolResult(call_id=str(ev["tool_call_id"]), name=str(ev["tool_name"]),
                               is_error=bool(ev.get("is_error")))]
        if kind == "agent_response_complete":
            return [TurnComplete()]
        if kind == "error":
            ev = m.get("error_event") or {}
            if not isinstance(ev, dict):
                raise TypeError("error_event is not an object")
            code = ev.get("error_type") or ev.get("code") or "error"
            text = ev.get("message") or ev.get("reason") or ev.get("debug_message") or str(code)
            err = ErrorEvent(code=str(code), message=str(text), fatal=True)
            self._last_error = err
            return [err]
        return [Unknown(type=kind, raw=json.dumps(m))]

    def encode(self, command: Command) -> list[Frame]:
        if isinstance(command, SendAudio):
            if not self.ready or self.text_only:
                self.dropped_audio_frames += 1
                return []
            data = command.pcm
            if self.input_format.encoding == "ulaw":
                data = ulaw.encode(data)
            return [json.dumps({"user_audio_chunk": base64.b64encode(data).decode("ascii")})]
        if isinstance(command, SendText):
            if not command.text:
                return []
            return [json.dumps({"type": "user_message", "text": command.text})]
        if isinstance(command, Pong):
            if command.event_id is None:
                return []
            return [json.dumps({"type": "pong", "event_id": command.event_id})]
        if isinstance(command, ContextUpdate):
            if not command.text:
                return []
            return [json.dumps({"type": "contextual_update", "text": command.text})]
        if isinstance(command, UserActivity):
            return [json.dumps({"type": "user_activity"})]
        if isinstance(command, SendToolResult):
            result = command.result if isinstance(command.result, str) else json.dumps(command.result)
            return [json.dumps({"type": "client_tool_result", "tool_call_id": command.call_id,
                                "result": result, "is_error": bool(command.is_error)})]
        if isinstance(command, Close):
            self._client_closing = True
            return []  # no end message: the session closes the socket with 1000
        return []  # CommitAudio, Interrupt: the server's VAD decides turns

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        err = self._last_error
        detail = (err.message if err else "") or reason
        if code in (1000, 1001):
            if self._client_closing:
                return [SessionEnded(reason="ended by the user", close_code=code)]
            if err is not None and err.code == "max_duration_exceeded":
                return [SessionEnded(reason="the maximum call duration was reached", close_code=code)]
            return [SessionEnded(reason=reason or "the agent ended the conversation", close_code=code)]
        if code in CLOSE_CODES:
            what, retryable = CLOSE_CODES[code]
            message = f"{what} (code {code})" + (f": {detail}" if detail else "")
            return [SessionEnded(reason=reason or what, close_code=code, retryable=retryable, error=message)]
        if self._client_closing and code is None:
            return [SessionEnded(reason="ended by the user", close_code=code)]
        message = f"connection closed unexpectedly (code {code})" + (f": {detail}" if detail else "")
        return [SessionEnded(reason=reason or "connection lost", close_code=code, retryable=True,
                             error=message)]


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
