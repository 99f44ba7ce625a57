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
as an agent :class:`TranscriptFinal`; a later ``agent_response_correction`` (when the
reply was cut off) as :class:`TranscriptCorrection`. The reply's ``event_id`` is the
events' ``turn``: text and audio of one reply share it, so the transcript keeps them
together in whatever order they arrive.
"""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar
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
from voicecli.protocol.convai import ConvaiAdapter, int_or_none, spoken_chars
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
        self._client_closing = False
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

    def dispatch(self, kind: str, m: dict[str, Any]) -> list[Event]:
        if kind == "audio":
            ev = m["audio_event"]
            event_id = int_or_none(ev.get("event_id"))
            audio = self._agent_audio(base64.b64decode(ev["audio_base_64"], validate=True), event_id,
                                      spoken_chars(ev.get("alignment")))
            return [audio] if audio is not None else []
        if kind == "ping":
            ev = m["ping_event"]
            return [Ping(event_id=int_or_none(ev["event_id"]), ping_ms=int_or_none(ev.get("ping_ms")))]
        if kind == "interruption":
            ev = m.get("interruption_event") or {}
            if not isinstance(ev, dict):
                raise TypeError("interruption_event is not an object")
            return self._interruption(int_or_none(ev.get("event_id")))
        if kind == "conversation_initiation_metadata":
            ev = m["conversation_initiation_metadata_event"]
            out_raw = ev.get("agent_output_audio_format", DEFAULT_FORMAT)
            in_raw = ev.get("user_input_audio_format", DEFAULT_FORMAT)
            cid = str(ev["conversation_id"]) if ev.get("conversation_id") else None
            return self._session_started(out_raw, in_raw, cid, text_only=self.text_only)
        if kind == "agent_response":
            ev = m["agent_response_event"]
            event_id = int_or_none(ev.get("event_id"))
            return [TranscriptFinal(role="agent", text=str(ev["agent_response"]), event_id=event_id,
                                    turn=event_id)]
        if kind == "agent_response_correction":
            ev = m["agent_response_correction_event"]
            event_id = int_or_none(ev.get("event_id"))
            return [TranscriptCorrection(original=str(ev["original_agent_response"]),
                                         corrected=str(ev["corrected_agent_response"]),
                                         event_id=event_id, turn=event_id)]
        if kind in ("agent_chat_response_part", "agent_reasoning_response_part"):
            key = "text_response_part" if kind == "agent_chat_response_part" else "reasoning_response_part"
            ev = m[key]
            phase = ev.get("type", "delta")
            if phase not in ("start", "delta", "stop"):
                phase = "delta"
            return [TextDelta(text=str(ev.get("text") or ""), phase=phase,
                              kind="text" if kind == "agent_chat_response_part" else "reasoning",
                              turn=int_or_none(ev.get("event_id")))]
        if kind == "tentative_user_transcript":
            ev = m["tentative_user_transcription_event"]
            return [TranscriptDelta(role="user", text=str(ev["user_transcript"]), cumulative=True,
                                    event_id=int_or_none(ev.get("event_id")))]
        if kind == "user_transcript":
            ev = m["user_transcription_event"]
            return [TranscriptFinal(role="user", text=str(ev["user_transcript"]),
                                    event_id=int_or_none(ev.get("event_id")))]
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
            return self._fatal_error(str(code), str(text))
        return [Unknown(type=kind, raw=json.dumps(m))]

    def _audio_allowed(self) -> bool:
        return self.ready and not self.text_only

    def encode(self, command: Command) -> list[Frame]:
        if isinstance(command, SendAudio):
            return self._user_audio(command.pcm) + self._hold_beat(len(command.pcm))
        if isinstance(command, HoldTurn):
            if self.text_only:
                return []
            self._held = 0
            return [json.dumps({"type": "user_activity"})]
        if isinstance(command, CommitAudio):
            self._held = None
            return []  # the server's VAD ends turns; the beats stop
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
        return []  # Interrupt: no such message

    def _hold_beat(self, size: int) -> list[Frame]:
        if self._held is None or not self._audio_allowed():
            return []
        self._held += size
        if self._held < self.input_format.sample_rate * 2 * HOLD_BEAT_MS // 1000:
            return []
        self._held = 0
        return [json.dumps({"type": "user_activity"})]

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
