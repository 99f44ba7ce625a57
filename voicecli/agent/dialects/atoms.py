"""Smallest AI Atoms realtime agent, server side (PROTOCOLS.md section A).

The peer of ``voicecli.protocol.atoms.AtomsAdapter``. Messages and order, as in
the vendor's AsyncAPI document (``atoms-agent-ws.asyncapi.yaml``):

- on connect ``session.created{session_id, call_id, sample_rate, channels}``;
- a webcall reply: ``agent_start_talking{timestamp}``, then ``output_audio.delta`` chunks
  paced in real time with cumulative assistant ``transcript.delta`` growing word by word
  with the audio, then the final assistant ``transcript`` once the turn is spoken, then
  ``agent_stop_talking``; a user turn gets its final ``transcript`` when it ends;
- an interrupted reply: ``interruption`` (no fields), the assistant ``transcript``
  truncated to what was sent, ``agent_stop_talking``;
- ``mode=chat`` is text-only: each reply is one assistant ``transcript`` with the whole
  text, at once (no audio, no deltas, no talking events), and a message sent while a
  reply is being written is answered after it;
- ``session.close`` → ``session.closed{reason: client_requested}``, then close 1000;
  ``error{code, message}`` for bad messages (the socket stays open).

Differences from the hosted service, on purpose, for push-to-talk (the hosted gateway
accepts both messages and does nothing with them): ``session.update`` (no fields) means
the client holds the user's turn, so no pause ends it, until ``input_audio_buffer.commit``,
which ends the user's turn at once (with or without a hold).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from voicecli.agent.dialects import register, register_http
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ClientClose,
    Closing,
    ErrorOut,
    Frame,
    HttpCall,
    HttpReply,
    Interrupted,
    KeyCheck,
    Ready,
    Reject,
    ServerDialect,
    TalkStart,
    TalkStop,
    TranscriptOut,
    UpgradeRequest,
    UserAudio,
    UserCommit,
    UserHold,
    UserInput,
    UserText,
)
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import atoms as wire
from voicecli.protocol.wire.codec import JSON, MISSING, NO_TYPE, UNKNOWN_TYPE

CONNECT_PATH = "/atoms/v1/agent/connect"
REGISTER_CALL_PATH = "/atoms/v1/conversation/register-call"
RATES = (8000, 16000, 24000, 48000)
DEFAULT_RATE = 24000
TOKEN_RATE = 24000
TOKEN_PREFIX = "wct_"  # noqa: S105 - a prefix, not a secret
TOKEN_TTL_S = 30
MODES = ("webcall", "chat")
RESERVED_VARIABLES = frozenset({
    "call_id", "conversation_type", "agent_number", "user_number", "current_date", "current_time",
    "current_day", "agent_gender", "default_language", "supported_languages", "timezone",
})


def _timestamp() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _bearer(headers: Any) -> str | None:
    value = headers.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _variables(raw: Any) -> dict[str, Any] | str:
    """Clean variables, or an error message."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return "variables must be a JSON object"
    if not isinstance(raw, dict):
        return "variables must be a JSON object"
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(value, (str, int, float, bool)):
            return f"variable {key!r} must be a string, number or boolean"
        if key not in RESERVED_VARIABLES:
            out[str(key)] = value
    return out


@register
class AtomsServer(ServerDialect):
    name: ClassVar[str] = "atoms"
    path: ClassVar[str] = CONNECT_PATH

    def __init__(self) -> None:
        self.input_rate = self.output_rate = DEFAULT_RATE
        self.mode = "webcall"
        self.agent_id: str | None = None
        self.variables: dict[str, Any] = {}

    # ---- handshake ---------------------------------------------------------------------

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        header = _bearer(request.headers)
        query_token = request.query.get("token") or None
        if header and query_token and header != query_token:
            return Reject(400, "pass the token as ?token= or Authorization: Bearer, not both")
        credential = header or query_token
        if credential and credential.startswith(TOKEN_PREFIX):
            scope = keys.redeem_token(credential[len(TOKEN_PREFIX):])
            if scope is None or scope.get("dialect") != self.name:
                return Reject(401, "Unauthorized: the token is invalid, expired or already used")
            self.agent_id = str(scope.get("agent_id"))
            self.mode = str(scope.get("mode") or "webcall")
            self.variables = dict(scope.get("variables") or {})
            rate = TOKEN_RATE
        else:
            if not keys.valid_key(credential):
                return Reject(401, "Unauthorized: invalid or missing API key")
            self.agent_id = request.query.get("agent_id") or None
            if not self.agent_id or not keys.agent_exists(self.agent_id):
                return Reject(401, "Unauthorized: agent not found")
            self.mode = request.query.get("mode") or "webcall"
            if self.mode not in MODES:
                return Reject(400, f"invalid mode {self.mode!r}: expected webcall or chat")
            try:
                rate = int(request.query.get("sample_rate") or DEFAULT_RATE)
            except ValueError:
                rate = 0
            if rate not in RATES:
                return Reject(400, "invalid sample_rate: expected 8000, 16000, 24000 or 48000")
            variables = _variables(request.query.get("variables"))
            if isinstance(variables, str):
                return Reject(400, variables)
            self.variables = variables
        self.input_rate = self.output_rate = rate
        self.audio_out = self.mode == "webcall"
        return None

    # ---- client frames -----------------------------------------------------------------

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        try:
            message = wire.parse_client(frame)
        except WireError as err:
            return [ErrorOut("invalid_event", _problem(err))]
        match message:
            case wire.InputAudioAppend(audio=pcm):
                if not self.audio_out:
                    return []  # chat mode has no speech recognition
                pcm = pcm[: len(pcm) - len(pcm) % 2]
                return [UserAudio(pcm, self.input_rate)] if pcm else []
            case wire.InputAudioCommit():
                return [UserCommit()]
            case wire.InputTextSend(text=text):
                return [UserText(text)]
            case wire.SessionUpdate():
                return [UserHold()] if self.audio_out else []
        return [ClientClose()]  # session.close

    # ---- agent outputs -----------------------------------------------------------------

    def encode(self, output: AgentOutput) -> list[Frame]:
        message = self._message(output)
        return [wire.encode(message)] if message is not None else []

    def _message(self, output: AgentOutput) -> wire.Message | None:
        match output:
            case TranscriptOut(role=role, text=text, final=final):
                speaker = "user" if role == "user" else "assistant"
                return wire.Transcript(speaker, text) if final else wire.TranscriptDelta(speaker, text)
            case Ready(session_id=session_id):
                call_id = f"CALL-{int(time.time() * 1000)}-{uuid.uuid4().hex[:6]}"
                return wire.SessionCreated(session_id, call_id, self.output_rate, 1)
            case ErrorOut(code=code, message=text):
                return wire.Error(code=code, message=text)
            case Closing(close_code=4000):
                return None  # a fatal setup failure ends with error + 4000 and no session.closed
            case Closing(reason=reason):
                return wire.SessionClosed(reason=reason)
        return self._voice(output) if self.audio_out else None

    def _voice(self, output: AgentOutput) -> wire.Message | None:
        """The messages of a spoken session only (chat mode has no audio, no talking events)."""
        match output:
            case AudioOut(pcm=pcm):
                return wire.OutputAudioDelta(audio=pcm)
            case TalkStart():
                return wire.AgentStartTalking(timestamp=_timestamp())
            case TalkStop():
                return wire.AgentStopTalking(timestamp=_timestamp())
            case Interrupted():
                return wire.Interruption()
        return None  # TextOut, TurnDone, PingOut, ToolCallOut: no such message


def _problem(err: WireError) -> str:
    """The server's words for a message it cannot read."""
    if err.kind == JSON:
        return "message is not valid JSON"
    if err.kind == NO_TYPE:
        return "type is required"
    if err.kind == UNKNOWN_TYPE:
        return f"unknown event type: {err.message_type}"
    return f"{err.field} {'is required' if err.kind == MISSING else err.problem}"


# ---- POST /atoms/v1/conversation/register-call ---------------------------------------------


def _fail(status: int, message: str) -> HttpReply:
    return HttpReply.json(status, {"status": False, "errors": [message]})


def register_call(call: HttpCall, keys: KeyCheck) -> HttpReply:
    if not keys.valid_key(_bearer(call.headers)):
        return _fail(401, "Unauthorized: invalid or missing API key")
    try:
        body = json.loads(call.body or b"{}")
    except ValueError:
        return _fail(400, "body must be JSON")
    if not isinstance(body, dict):
        return _fail(400, "body must be a JSON object")
    agent_id = body.get("agent_id")
    if not isinstance(agent_id, str) or not agent_id:
        return _fail(400, "agent_id is required")
    if not keys.agent_exists(agent_id):
        return _fail(404, "Agent not found")
    mode = body.get("mode") or "webcall"
    if mode not in MODES:
        return _fail(400, f"invalid mode {mode!r}: expected webcall or chat")
    variables = _variables(body.get("variables"))
    if isinstance(variables, str):
        return _fail(400, variables)
    scope = {"dialect": AtomsServer.name, "agent_id": agent_id, "mode": mode, "variables": variables}
    token = TOKEN_PREFIX + keys.issue_token(scope, TOKEN_TTL_S)
    return HttpReply.json(201, {"status": True, "data": {
        "access_token": token, "expires_in": TOKEN_TTL_S, "sample_rate": TOKEN_RATE}})


register_http("POST", REGISTER_CALL_PATH, register_call)
