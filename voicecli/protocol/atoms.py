"""Smallest AI Atoms realtime agent, client side (PROTOCOLS.md section A)."""

from __future__ import annotations

import base64
import json
from collections import deque
from typing import Any, ClassVar

from voicecli.errors import AuthError, ConfigError, ProtocolError, UsageError
from voicecli.protocol.base import (
    Capabilities,
    DialectConfig,
    FormatError,
    Frame,
    Handshake,
    HttpRequest,
    JsonAdapter,
    check_rate,
    default_handshake_error,
    http_url,
    parse_json,
    ws_url,
)
from voicecli.protocol.closing import unexpected_close
from voicecli.protocol.commands import Close, Command, CommitAudio, HoldTurn, SendAudio, SendText
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    AudioFormat,
    ErrorEvent,
    Event,
    Interruption,
    Role,
    SessionEnded,
    SessionStarted,
    TranscriptDelta,
    TranscriptFinal,
    Unknown,
)

CONNECT_PATH = "/atoms/v1/agent/connect"
REGISTER_CALL_PATH = "/atoms/v1/conversation/register-call"
RATES = (8000, 16000, 24000, 48000)
DEFAULT_RATE = 24000
TOKEN_RATE = 24000  # a wct_ token fixes the rate
NO_RETRY_CODES = (4000, 4401, 4403)
MODES = ("webcall", "chat")
# reserved variable names the server strips (sent anyway: the server decides)
AUTH_MODES = ("header", "query", "register-call")


def _role(value: Any) -> Role:
    return "user" if value == "user" else "agent"


class AtomsAdapter(JsonAdapter):
    name: ClassVar[str] = "atoms"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text_input=True, interruption_signal=True, client_interrupt=False,
        client_turns=False, context_update=False, keepalive=False, turn_hold="local")
    known_hosts: ClassVar[tuple[str, ...]] = ("api.smallest.ai",)

    def __init__(self, config: DialectConfig) -> None:
        super().__init__(config)
        rate = config.sample_rate or DEFAULT_RATE
        if rate not in RATES:
            raise UsageError(f"atoms supports sample rates {', '.join(map(str, RATES))}; got {rate}")
        mode = config.mode or "webcall"
        if mode not in MODES:
            raise UsageError(f"atoms mode must be webcall or chat; got {mode!r}")
        auth = str(config.options.get("auth", "header"))
        if auth not in AUTH_MODES:
            raise UsageError(f"atoms auth must be one of {', '.join(AUTH_MODES)}; got {auth!r}")
        self.rate = rate
        self.mode = mode
        self.auth = auth
        self._token: str | None = None  # a wct_ token from register-call
        if config.api_key and config.api_key.reveal().startswith("wct_"):
            self._token = config.api_key.reveal()
        self._dropping = False  # after interruption, until the next agent_start_talking
        # agent turns: numbered at each agent_start_talking (or at the first agent message
        # after a settled turn, where none is sent: chat mode); the assistant's final
        # transcript settles the oldest turn still waiting for one (it comes after the turn
        # was spoken, possibly after the next turn began)
        self._turn = 0
        self._awaiting_final: deque[int] = deque()
        self._settled: set[int] = set()
        self._closed_reason: str | None = None
        self._last_error: ErrorEvent | None = None
        self.session_rate = rate

    # ---- handshake ---------------------------------------------------------------------

    def prepare(self) -> HttpRequest | None:
        if self.auth != "register-call" or self._token is not None:
            return None
        key = self._key()
        body: dict[str, Any] = {"agent_id": self._agent_id()}
        if self.config.mode:
            body["mode"] = self.mode
        if self.config.variables:
            body["variables"] = dict(self.config.variables)
        return HttpRequest.json("POST", http_url(self.config.url, REGISTER_CALL_PATH), body,
                                {"Authorization": f"Bearer {key}"}, purpose="register-call")

    def on_http_response(self, status: int, body: bytes) -> None:
        if status not in (200, 201):
            raise default_handshake_error(status, body, "atoms register-call")
        try:
            data = parse_json(body)["data"]
            token = data["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError("atoms register-call answered without data.access_token") from exc
        if not isinstance(token, str) or not token:
            raise ProtocolError("atoms register-call answered an empty access token")
        from voicecli.secrets import register

        register(token)
        self._token = token

    def handshake(self) -> Handshake:
        query: dict[str, Any] = {}
        headers: dict[str, str] = dict(self.config.headers)
        if self._token is not None:
            credential = self._token
            self.session_rate = TOKEN_RATE
        else:
            credential = self._key()
            query["agent_id"] = self._agent_id()
            if self.config.mode:
                query["mode"] = self.mode
            query["sample_rate"] = self.rate
            if self.config.variables:
                query["variables"] = json.dumps(dict(self.config.variables), separators=(",", ":"))
        if self.auth == "header":
            headers["Authorization"] = f"Bearer {credential}"
        else:
            query["token"] = credential
        return Handshake(url=ws_url(self.config.url, CONNECT_PATH, query), headers=headers)

    def handshake_error(self, status: int, body: bytes) -> Exception:
        if status == 401:
            return AuthError("atoms refused the connection (HTTP 401): bad or missing API key, "
                             "expired or used token, or unknown agent id")
        return default_handshake_error(status, body, "the atoms server")

    def _key(self) -> str:
        if not self.config.api_key:
            raise ConfigError("no API key for atoms: set SMALLEST_API_KEY")
        return self.config.api_key.reveal()

    def _agent_id(self) -> str:
        if not self.config.agent_id:
            raise UsageError("atoms needs an agent id: pass --agent ID")
        return self.config.agent_id

    # ---- frames ------------------------------------------------------------------------

    def dispatch(self, kind: str, m: dict[str, Any]) -> list[Event]:
        if kind == "session.created":
            try:
                rate = check_rate("atoms", "sample_rate", m.get("sample_rate", self.session_rate), RATES)
                channels = check_rate("atoms", "channel count", m.get("channels", 1), (1, 2))
            except FormatError as exc:
                return [ErrorEvent(code="unsupported_format", message=str(exc), fatal=True)]
            self.session_rate = rate
            fmt = AudioFormat("pcm16", rate, channels)
            return [SessionStarted(input_format=fmt, output_format=fmt,
                                   session_id=m.get("session_id"), conversation_id=m.get("call_id"))]
        if kind == "output_audio.delta":
            if self._dropping:
                return []
            audio = base64.b64decode(m["audio"], validate=True)
            return [AgentAudio(data=audio, format=AudioFormat("pcm16", self.session_rate),
                               turn=self._current_turn())]
        if kind == "agent_start_talking":
            self._dropping = False
            return [AgentStartedTalking(timestamp=m.get("timestamp"), turn=self._new_turn())]
        if kind == "agent_stop_talking":
            return [AgentStoppedTalking(timestamp=m.get("timestamp"), turn=self._turn or None)]
        if kind == "interruption":
            self._dropping = True
            return [Interruption(turn=self._turn or None)]
        if kind == "transcript":
            role, text = _role(m["role"]), str(m["text"])
            if role == "user":
                return [TranscriptFinal(role="user", text=text)]
            return [TranscriptFinal(role="agent", text=text, turn=self._settle())]
        if kind == "transcript.delta":
            role, text = _role(m["role"]), str(m["text"])
            turn = None if role == "user" else self._current_turn()
            return [TranscriptDelta(role=role, text=text, cumulative=True, turn=turn)]
        if kind == "session.closed":
            self._closed_reason = str(m.get("reason") or "closed")
            return [SessionEnded(reason=self._closed_reason)]
        if kind == "error":
            err = ErrorEvent(code=str(m.get("code", "error")), message=str(m.get("message", "")))
            self._last_error = err
            return [err]
        return [Unknown(type=kind, raw=json.dumps(m))]

    def _new_turn(self) -> int:
        self._turn += 1
        self._awaiting_final.append(self._turn)
        return self._turn

    def _current_turn(self) -> int:
        """The turn in progress; a new one when the last was settled (or none began)."""
        if self._turn == 0 or self._turn in self._settled:
            return self._new_turn()
        return self._turn

    def _settle(self) -> int:
        turn = self._awaiting_final.popleft() if self._awaiting_final else self._current_turn()
        if turn in self._awaiting_final:
            self._awaiting_final.remove(turn)
        self._settled.add(turn)
        return turn

    def encode(self, command: Command) -> list[Frame]:
        if isinstance(command, SendAudio):
            if self.mode == "chat":
                return []
            data = base64.b64encode(command.pcm).decode("ascii")
            return [json.dumps({"type": "input_audio_buffer.append", "audio": data})]
        if isinstance(command, HoldTurn):  # push-to-talk: reserved (a no-op) at the hosted service
            return [] if self.mode == "chat" else [json.dumps({"type": "session.update"})]
        if isinstance(command, CommitAudio):
            return [json.dumps({"type": "input_audio_buffer.commit"})]
        if isinstance(command, SendText):
            if not command.text:
                return []
            return [json.dumps({"type": "input_text.send", "text": command.text})]
        if isinstance(command, Close):
            return [json.dumps({"type": "session.close"})]
        return []  # Interrupt, Pong, ContextUpdate...: no such message in this protocol

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        if code in NO_RETRY_CODES:
            detail = self._last_error.message if self._last_error else (reason or "setup or auth failure")
            auth = code in (4401, 4403) or (self._last_error is not None
                                            and self._last_error.code in ("401", "403"))
            return [SessionEnded(reason=self._closed_reason or "rejected", close_code=code,
                                 retryable=False, error=f"atoms closed the session (code {code}): {detail}",
                                 failure="auth" if auth else "protocol")]
        if self._closed_reason is not None or code in (1000, 1001):
            return [SessionEnded(reason=self._closed_reason or "closed", close_code=code)]
        return [unexpected_close(self.name, code, reason)]
