"""The "session token" PCM protocol (seed 002; PROTOCOLS.md section C), server side.

The peer of ``voicecli.protocol.token_pcm.TokenPcmAdapter``.

- ``POST /api/v1/sdk/token`` with ``Authorization: Bearer KEY`` →
  ``{"token": T, "ws_url": "ws://HOST:PORT/api/v1/sdk/ws"}``; 401 for a bad or missing
  key. The token lives ``TOKEN_TTL_S`` (5 minutes) and is single use.
- ``/api/v1/sdk/ws``: the first frame must be the text JSON ``{"token": T}``:

  ============================  ==========================  ==========
  first frame                   error ``code``              close code
  ============================  ==========================  ==========
  not valid JSON (or binary)    ``INVALID_AUTH``            4002
  JSON without ``token``        ``INVALID_AUTH``            4002
  unknown/expired/used token    ``AUTH_FAILED``             4003
  none within ``ready_timeout``  ``AUTH_TIMEOUT``            4001
  the token's agent is unknown  ``SESSION_SETUP_FAILED``    4500
  ============================  ==========================  ==========

  The error JSON ``{"type": "error", "code", "message"}`` is sent, then the close.
  A valid token is answered with ``{"type": "connected"}`` then
  ``{"type": "agent_ready"}``.
- Audio both ways: binary PCM16 little-endian, 16 kHz, mono. Agent audio leaves in
  exact 640-byte (20 ms) frames; the last partial frame of a reply is padded with
  silence, and dropped when the reply is interrupted (there is no interruption
  message: the frames just stop). Client frames of any even length are accepted.
- The session ends with ``{"type": "session_ended", "reason": …}`` then close 1000.

A socket that sends no token within ``ready_timeout`` (``AUTH_TIMEOUT_S``, 10 s) gets
``AUTH_TIMEOUT`` and close 4001 from a timer; a token that arrives later is refused the
same way. Local addition: the token request may carry a
JSON body ``{"agent_id": ID}``; a token for an agent the server does not serve fails
at session setup (4500), which is how that close is exercised.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from voicecli.agent.dialects import register, register_http
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    Closing,
    ErrorOut,
    Frame,
    HttpCall,
    HttpReply,
    Interrupted,
    KeyCheck,
    ProtocolViolation,
    Ready,
    Reject,
    ServerDialect,
    TalkStop,
    UpgradeRequest,
    UserAudio,
    UserInput,
)
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import token_pcm as wire
from voicecli.protocol.wire.codec import JSON

TOKEN_PATH = "/api/v1/sdk/token"  # noqa: S105 - an endpoint path, not a secret
WS_PATH = "/api/v1/sdk/ws"
TOKEN_TTL_S = 5 * 60
AUTH_TIMEOUT_S = 10.0
RATE = 16000
FRAME_BYTES = 640

CLOSE_CODES = {"AUTH_TIMEOUT": 4001, "INVALID_AUTH": 4002, "AUTH_FAILED": 4003, "SESSION_SETUP_FAILED": 4500}


def _bearer(headers: Any) -> str | None:
    value = headers.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _refuse(code: str, message: str) -> list[UserInput | AgentOutput]:
    return [ProtocolViolation(message, code, CLOSE_CODES[code])]


@register
class TokenPcmServer(ServerDialect):
    name: ClassVar[str] = "token-pcm"
    path: ClassVar[str] = WS_PATH

    def __init__(self) -> None:
        self.input_rate = self.output_rate = RATE
        self.keys: KeyCheck | None = None
        self.opened_at = time.monotonic()
        self.authenticated = False
        self.refused = False
        self._pending = b""

    ready_timeout: float | None = AUTH_TIMEOUT_S  # seconds a socket may stay without a token

    @property
    def ready_on_open(self) -> bool:
        return False

    def on_ready_timeout(self) -> list[AgentOutput]:
        self.refused = True
        return [ErrorOut("AUTH_TIMEOUT", self._timeout_message()),
                Closing("auth_timeout", CLOSE_CODES["AUTH_TIMEOUT"])]

    def _timeout_message(self) -> str:
        return f"No token received within {self.ready_timeout or AUTH_TIMEOUT_S:g} seconds"

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        self.keys = keys  # authentication happens in the first message
        self.opened_at = time.monotonic()
        return None

    # ---- client frames ---------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        if self.refused:
            return []
        if not self.authenticated:
            out = self._authenticate(frame)
            self.refused = not self.authenticated
            return out
        if isinstance(frame, bytes):
            pcm = frame[: len(frame) - len(frame) % 2]
            return [UserAudio(pcm, RATE)] if pcm else []
        return []  # no client control messages are defined after the token

    def _authenticate(self, frame: Frame) -> list[UserInput | AgentOutput]:
        if time.monotonic() - self.opened_at > (self.ready_timeout or AUTH_TIMEOUT_S):
            return _refuse("AUTH_TIMEOUT", self._timeout_message())
        if isinstance(frame, bytes):
            return _refuse("INVALID_AUTH", "The first message must be JSON with a token")
        try:
            message = wire.parse_client(frame)
        except WireError as err:
            problem = "is not valid JSON" if err.kind == JSON else "must contain a token"
            return _refuse("INVALID_AUTH", f"The first message {problem}")
        assert isinstance(message, wire.Token)  # the only client message
        token = message.token
        scope = self.keys.redeem_token(token) if self.keys is not None else None
        if scope is None or scope.get("dialect") != self.name:
            return _refuse("AUTH_FAILED", "Invalid or expired token")
        agent_id = scope.get("agent_id")
        if agent_id is not None and self.keys is not None and not self.keys.agent_exists(str(agent_id)):
            return _refuse("SESSION_SETUP_FAILED", f"Could not start agent {agent_id}")
        self.authenticated = True
        return [Ready(f"tp-{id(self):x}", RATE, RATE)]

    # ---- agent outputs ---------------------------------------------------------------------

    def encode(self, output: AgentOutput) -> list[Frame]:
        if isinstance(output, Ready):
            return [wire.encode(wire.Connected()), wire.encode(wire.AgentReady())]
        if isinstance(output, AudioOut):
            data = self._pending + output.pcm
            cut = len(data) - len(data) % FRAME_BYTES
            self._pending = data[cut:]
            return [data[i:i + FRAME_BYTES] for i in range(0, cut, FRAME_BYTES)]
        if isinstance(output, Interrupted):
            self._pending = b""
            return []
        if isinstance(output, TalkStop):
            tail, self._pending = self._pending, b""
            return [tail + bytes(FRAME_BYTES - len(tail))] if tail else []
        if isinstance(output, ErrorOut):
            code = output.code if output.code in CLOSE_CODES else output.code.upper()
            return [wire.encode(wire.Error(code=code, message=output.message))]
        if isinstance(output, Closing):
            if output.close_code != 1000:
                return []  # errors end with the error message and the close code alone
            reason = "session_closed" if output.reason == "client_requested" else "agent_disconnected"
            return [wire.encode(wire.SessionEnded(reason=reason))]
        return []  # transcripts, text, pings: nothing on this wire


# ---- POST /api/v1/sdk/token -----------------------------------------------------------------

def issue_token(call: HttpCall, keys: KeyCheck) -> HttpReply:
    key = _bearer(call.headers)
    if not keys.valid_key(key):
        return HttpReply.json(401, {"detail": "Invalid or missing API key"})
    scope: dict[str, Any] = {"dialect": TokenPcmServer.name}
    if call.body.strip():
        try:
            body = json.loads(call.body)
        except ValueError:
            return HttpReply.json(400, {"detail": "body must be JSON"})
        if isinstance(body, dict) and isinstance(body.get("agent_id"), str):
            scope["agent_id"] = body["agent_id"]
    token = keys.issue_token(scope, TOKEN_TTL_S)
    base = "ws" + call.base_url[len("http"):] if call.base_url.startswith("http") else call.base_url
    return HttpReply.json(200, {"token": token, "ws_url": base + WS_PATH})


register_http("POST", TOKEN_PATH, issue_token)
