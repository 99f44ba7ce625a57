"""Smallest AI Atoms realtime agent, client side (PROTOCOLS.md section A)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any, ClassVar

from voicecli.errors import AuthError, ConfigError, ProtocolError, UsageError
from voicecli.protocol.base import (
    Adapter,
    Capabilities,
    DialectConfig,
    Frame,
    Handshake,
    HttpRequest,
    default_handshake_error,
    http_url,
    parse_json,
    unknown_from,
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
    SessionEnded,
    SessionStarted,
    TranscriptDelta,
    TranscriptFinal,
)
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import atoms as wire

CONNECT_PATH = "/atoms/v1/agent/connect"
REGISTER_CALL_PATH = "/atoms/v1/conversation/register-call"
RATES = (8000, 16000, 24000, 48000)
DEFAULT_RATE = 24000
TOKEN_RATE = 24000  # a wct_ token fixes the rate
NO_RETRY_CODES = (4000, 4401, 4403)
MODES = ("webcall", "chat")
# reserved variable names the server strips (sent anyway: the server decides)
AUTH_MODES = ("header", "query", "register-call")


class AtomsAdapter(Adapter):
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

    def feed(self, frame: Frame) -> list[Event]:
        try:
            message = wire.parse_server(frame)
        except WireError as err:
            if err.message_type == wire.SessionCreated.TYPE and err.field in ("sample_rate", "channels"):
                return [ErrorEvent(code="unsupported_format", message=err.problem, fatal=True)]
            return [unknown_from(err, frame)]
        match message:
            case wire.SessionCreated(session_id=session_id, call_id=call_id):
                self.session_rate = message.rate or self.session_rate
                fmt = AudioFormat("pcm16", self.session_rate, message.channel_count)
                return [SessionStarted(input_format=fmt, output_format=fmt, session_id=session_id,
                                       conversation_id=call_id)]
            case wire.SessionClosed(reason=reason):
                self._closed_reason = reason or "closed"
                return [SessionEnded(reason=self._closed_reason)]
            case wire.Error(code=code, message=text):
                error = ErrorEvent(code=str(code if code is not None else "error"), message=text or "")
                self._last_error = error
                return [error]
        return self._turn_event(message)

    def _turn_event(self, message: wire.Message) -> list[Event]:
        """Events of the messages about a turn, stamped with the agent's turn."""
        match message:
            case wire.OutputAudioDelta(audio=audio) if not self._dropping:
                return [AgentAudio(data=audio, format=AudioFormat("pcm16", self.session_rate),
                                   turn=self._current_turn())]
            case wire.AgentStartTalking(timestamp=timestamp):
                self._dropping = False
                return [AgentStartedTalking(timestamp=timestamp, turn=self._new_turn())]
            case wire.AgentStopTalking(timestamp=timestamp):
                return [AgentStoppedTalking(timestamp=timestamp, turn=self._turn or None)]
            case wire.Interruption():
                self._dropping = True
                return [Interruption(turn=self._turn or None)]
            case wire.Transcript(role="user", text=text):
                return [TranscriptFinal(role="user", text=text)]
            case wire.Transcript(text=text):
                return [TranscriptFinal(role="agent", text=text, turn=self._settle())]
            case wire.TranscriptDelta(role=role, text=text):
                user = role == "user"
                return [TranscriptDelta(role="user" if user else "agent", text=text, cumulative=True,
                                        turn=None if user else self._current_turn())]
        return []  # audio after an interruption, until the next agent_start_talking

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
        message = self._message(command)
        return [wire.encode(message)] if message is not None else []

    def _message(self, command: Command) -> wire.Message | None:
        voice = self.mode != "chat"
        match command:
            case SendAudio(pcm=pcm) if voice:
                return wire.InputAudioAppend(audio=pcm)
            case HoldTurn() if voice:  # push-to-talk: reserved (a no-op) at the hosted service
                return wire.SessionUpdate()
            case CommitAudio():
                return wire.InputAudioCommit()
            case SendText(text=text) if text:
                return wire.InputTextSend(text=text)
            case Close():
                return wire.SessionClose()
        return None  # Interrupt, Pong, ContextUpdate...: no such message in this protocol

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
