"""The "session token" PCM protocol (seed 002; PROTOCOLS.md section C), client side.

1. ``prepare()``: ``POST {url}/api/v1/sdk/token`` with ``Authorization: Bearer KEY`` →
   ``{"token": JWT, "ws_url": "wss://host/api/v1/sdk/ws"}`` (the JWT lives 5 minutes,
   so a new one is fetched for every session). When the configured URL is a loopback
   address, the returned ``ws_url``'s scheme and host are replaced by the configured
   ones, so a local test server works whatever URL it advertises.
2. The first frame is ``{"token": JWT}``. ``connected`` → :class:`Authenticated`
   (mic audio may flow from then on); ``agent_ready`` → :class:`SessionStarted`. The
   adapter's :class:`Phase` follows: ``CONNECTING`` → ``AUTHENTICATED`` → ``READY``.
3. Audio both ways: raw PCM16 little-endian, 16 kHz, mono, in binary frames of exactly
   640 bytes (20 ms). ``SendAudio`` data is re-framed; the remainder waits for the next
   call. Audio before ``connected`` is dropped (counted in ``dropped_audio_frames``).

There is no text input, interruption signal, transcript or keepalive message, and no
end message: ``Close`` encodes to nothing and the session closes the socket.

Options: ``token_path`` (default ``/api/v1/sdk/token``) and ``ws_path`` (used only when
the token answer has no ``ws_url``; default ``/api/v1/sdk/ws``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from voicecli.errors import AuthError, ConfigError, NetworkError, ProtocolError
from voicecli.protocol.base import (
    Adapter,
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
from voicecli.protocol.commands import Close, Command, SendAudio
from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    Authenticated,
    ErrorEvent,
    Event,
    SessionEnded,
    SessionStarted,
    Unknown,
)
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import token_pcm as wire
from voicecli.protocol.wire.token_pcm import ERROR_CODES as ERROR_CODES  # re-exported

TOKEN_PATH = "/api/v1/sdk/token"  # noqa: S105 - an endpoint path, not a secret
WS_PATH = "/api/v1/sdk/ws"
RATE = 16000
FRAME_BYTES = 640  # 20 ms of PCM16 mono at 16 kHz
FORMAT = AudioFormat("pcm16", RATE)

# close code -> (message, retryable)
CLOSE_CODES: dict[int, tuple[str, bool, str]] = {  # message, retryable, failure kind
    4001: ("authentication timed out: no token within 10 s", True, "auth"),
    4002: ("the token was missing or the first message was not valid JSON", False, "protocol"),
    4003: ("authentication failed: the session token is invalid or expired", False, "auth"),
    4500: ("the server could not set up the session; try again later", True, "network"),
}


class Phase(IntEnum):
    """Where a session is; they only move forward."""

    CONNECTING = 0  # the token was sent (or is about to be)
    AUTHENTICATED = 1  # ``connected``: mic audio may flow
    READY = 2  # ``agent_ready``


class TokenPcmAdapter(Adapter):
    name: ClassVar[str] = "token-pcm"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text_input=False, interruption_signal=False, client_interrupt=False,
        client_turns=False, context_update=False, keepalive=False, transcripts=False)
    known_hosts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: DialectConfig) -> None:
        super().__init__(config)
        split_base(config.url)  # validates the URL early
        self.token_path = str(config.options.get("token_path", TOKEN_PATH))
        self.ws_path = str(config.options.get("ws_path", WS_PATH))
        self._token: str | None = None
        self._ws_url: str | None = None
        self._pending = b""
        self.phase = Phase.CONNECTING
        self.dropped_audio_frames = 0
        self._ended_reason: str | None = None
        self._last_error: ErrorEvent | None = None

    @property
    def authenticated(self) -> bool:
        return self.phase >= Phase.AUTHENTICATED

    @property
    def ready(self) -> bool:
        return self.phase is Phase.READY

    # ---- pre-connect --------------------------------------------------------------------

    def prepare(self) -> HttpRequest | None:
        if self._token is not None:
            return None
        if not self.config.api_key:
            raise ConfigError("no API key for token-pcm: set the key_env variable of the profile "
                              "(VOICECLI_API_KEY by default)")
        headers = {"Authorization": f"Bearer {self.config.api_key.reveal()}",
                   "Content-Type": "application/json", "Accept": "application/json"}
        # the documented request has no body
        return HttpRequest("POST", http_url(self.config.url, self.token_path), headers, None,
                           purpose="token request")

    def on_http_response(self, status: int, body: bytes) -> None:
        if status == 401:
            raise AuthError("the token endpoint refused the API key (HTTP 401)")
        if status == 403:
            raise AuthError("the token endpoint refused the API key (HTTP 403): the kiosk is "
                            "inactive or disabled")
        if status >= 500:
            raise NetworkError(f"the token endpoint failed (HTTP {status}); try again later",
                               retryable=True)
        if status not in (200, 201):
            raise default_handshake_error(status, body, "the token endpoint")
        try:
            data = parse_json(body)
            token = data["token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError("the token endpoint answered without a token") from exc
        if not isinstance(token, str) or not token:
            raise ProtocolError("the token endpoint answered an empty token")
        from voicecli.secrets import register

        register(token)
        self._token = token
        url = data.get("ws_url")
        self._ws_url = url if isinstance(url, str) and url.startswith(("ws://", "wss://")) else None

    def handshake(self) -> Handshake:
        if self._token is None:
            raise ProtocolError("token-pcm: handshake before the token request")
        if self._ws_url is None:
            url = ws_url(self.config.url, self.ws_path)
        elif is_loopback(self.config.url):
            url = _rebase(self._ws_url, self.config.url)
        else:
            url = self._ws_url
        return Handshake(url=url, headers=dict(self.config.headers),
                         initial_frames=(wire.encode(wire.Token(self._token)),))

    def handshake_error(self, status: int, body: bytes) -> Exception:
        return default_handshake_error(status, body, "the token-pcm server")

    # ---- frames -------------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[Event]:
        if isinstance(frame, (bytes, bytearray, memoryview)):
            return _agent_audio(bytes(frame))
        try:
            message = wire.parse_server(frame)
        except WireError as err:
            return [unknown_from(err, frame)]
        match message:
            case wire.Connected():
                self.phase = max(self.phase, Phase.AUTHENTICATED)
                return [Authenticated()]
            case wire.AgentReady():
                self.phase = Phase.READY
                return [SessionStarted(input_format=FORMAT, output_format=FORMAT)]
            case wire.SessionEnded(said=reason):
                self._ended_reason = reason or "session ended"
                return [SessionEnded(reason=self._ended_reason)]
            case wire.Error(code=code, message=text):
                return [self._error(code or "error", text)]
        return [Unknown(type=message.TYPE, raw=frame)]  # pragma: no cover - every message is matched

    def _error(self, code: str, text: str | None) -> ErrorEvent:
        known = wire.ERROR_CODES.get(code)
        if text:
            message = f"{known} ({text})" if known else text
        else:
            message = known or "the server reported an error"
        err = ErrorEvent(code=code, message=message, fatal=True)
        self._last_error = err
        return err

    def encode(self, command: Command) -> list[Frame]:
        if isinstance(command, SendAudio):
            if not self.authenticated:
                self.dropped_audio_frames += 1
                return []
            data = self._pending + command.pcm
            cut = len(data) - len(data) % FRAME_BYTES
            self._pending = data[cut:]
            return [data[i:i + FRAME_BYTES] for i in range(0, cut, FRAME_BYTES)]
        if isinstance(command, Close):
            self._pending = b""
        return []  # no text, interrupt, keepalive or end message in this protocol

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        if code in CLOSE_CODES:
            what, retryable, failure = CLOSE_CODES[code]
            detail = self._last_error.message if self._last_error else reason
            message = f"{what} (code {code})"
            if detail and detail != what:
                message += f": {detail}"
            return [SessionEnded(reason=reason or what, close_code=code, retryable=retryable,
                                 error=message, failure=failure)]
        if self._last_error is not None and self._ended_reason is None:
            return [SessionEnded(reason=reason or "error", close_code=code, retryable=False,
                                 error=f"{self._last_error.code}: {self._last_error.message}")]
        if self._ended_reason is not None or code in (1000, 1001):
            return [SessionEnded(reason=self._ended_reason or reason or "closed", close_code=code)]
        return [unexpected_close(self.name, code, reason)]


def _agent_audio(data: bytes) -> list[Event]:
    """A binary frame: agent PCM16 (an odd length is no PCM16)."""
    if not data:
        return []
    if len(data) % 2:
        return [Unknown(type="<odd-length audio>", raw=data, malformed=True)]
    return [AgentAudio(data=data, format=FORMAT)]


def _rebase(url: str, base: str) -> str:
    target = urlsplit(url)
    _http, ws, _path = split_base(base)
    ws_parts = urlsplit(ws)
    return urlunsplit((ws_parts.scheme, ws_parts.netloc, target.path, target.query, target.fragment))
