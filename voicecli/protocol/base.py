"""The dialect adapter contract, and the plain data it exchanges with the I/O layers.

A session with any provider runs the same steps:

1. ``adapter.prepare()`` may return an :class:`HttpRequest` to run first (a token
   exchange or a signed URL); its answer goes back through ``adapter.on_http_response``.
   Repeat until ``prepare()`` returns ``None``.
2. ``adapter.handshake()`` gives the WebSocket URL, headers and the frames to send
   at once after the socket opens.
3. Right after the socket opens, ``adapter.on_open()`` gives its events (empty for
   most dialects; VoiceAgent has no ready message and reports SessionStarted there).
   Every frame received goes to ``adapter.feed(frame)``, which returns events;
   every command goes through ``adapter.encode(command)``, which returns frames.
4. When the socket closes, ``adapter.on_close(code, reason)`` gives the final events.

Adapters raise :class:`voicecli.errors.VoicecliError` subclasses for failures that
end the session before it started (auth, not found); mid-session problems are events.

Each adapter reads and writes frames with its dialect's wire vocabulary
(:mod:`voicecli.protocol.wire`): a frame the vocabulary cannot read raises one
:class:`~voicecli.protocol.wire.codec.WireError`, which the adapter reports as
:class:`~voicecli.protocol.events.Unknown` (``malformed`` unless only the type is unknown,
:func:`unknown_from`); a peer's mistake never raises out of ``feed``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

from voicecli.errors import UsageError
from voicecli.protocol.closing import unexpected_close
from voicecli.protocol.commands import Command
from voicecli.protocol.events import Event, Unknown
from voicecli.protocol.wire.codec import JSON, UNKNOWN_TYPE, WireError
from voicecli.protocol.wire.codec import MAX_JSON_CHARS as MAX_JSON_CHARS  # re-exported
from voicecli.protocol.wire.codec import MAX_JSON_DEPTH as MAX_JSON_DEPTH
from voicecli.protocol.wire.codec import JsonLimitError as JsonLimitError
from voicecli.protocol.wire.codec import parse_json as parse_json
from voicecli.secrets import Secret, redact

Frame = str | bytes


@dataclass(frozen=True)
class DialectConfig:
    """What a user configured for one provider connection (already resolved from
    flags, environment and profile)."""

    url: str  # a provider base URL (http/https/ws/wss, no path) or a full ws(s):// URL
    agent_id: str | None = None
    api_key: Secret | None = None
    sample_rate: int | None = None  # requested rate, where the provider lets us choose
    mode: str | None = None  # atoms: webcall|chat
    variables: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)  # dialect-specific extras


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    purpose: str = "request"  # shown in error messages: "token request", "signed URL"

    @staticmethod
    def json(method: str, url: str, payload: Any, headers: Mapping[str, str] | None = None,
             purpose: str = "request") -> HttpRequest:
        merged = {"Content-Type": "application/json", "Accept": "application/json"}
        merged.update(headers or {})
        return HttpRequest(method, url, merged, json.dumps(payload).encode(), purpose)


@dataclass(frozen=True)
class Handshake:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()
    initial_frames: tuple[Frame, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """What a dialect can do; the session and the UI adapt to it."""

    text_input: bool = True
    interruption_signal: bool = True  # the server tells us when the agent was cut off
    client_interrupt: bool = False  # we can ask the agent to stop
    client_turns: bool = False  # the client must end user turns (VAD or PTT) itself
    # push-to-talk (HoldTurn ... CommitAudio) holds the user's turn until the release:
    # "always" (the client sends the turn on release), "local" (the wire says the turn is
    # held; the local agent honours it, the hosted service's own turn detection decides)
    # or "none" (nothing on the wire can say it: the provider's turn detection decides)
    turn_hold: str = "none"
    context_update: bool = False
    keepalive: bool = False
    transcripts: bool = True


class Adapter(ABC):
    """One provider's wire protocol, client side. Subclasses are pure objects."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    # host names that select this dialect when none is given
    known_hosts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: DialectConfig) -> None:
        self.config = config

    def prepare(self) -> HttpRequest | None:
        """An HTTP request to run before connecting, or ``None`` when ready."""
        return None

    def on_http_response(self, status: int, body: bytes) -> None:  # pragma: no cover
        """Take the answer to the request ``prepare`` returned."""
        raise NotImplementedError

    @abstractmethod
    def handshake(self) -> Handshake: ...

    def on_open(self) -> list[Event]:
        """Events for a socket that just opened (called right after the upgrade, before
        any frame is read). Dialects with no ready message report SessionStarted here."""
        return []

    @abstractmethod
    def feed(self, frame: Frame) -> list[Event]: ...

    @abstractmethod
    def encode(self, command: Command) -> list[Frame]: ...

    def handshake_error(self, status: int, body: bytes) -> Exception:
        """The error for an HTTP status that refused the WebSocket upgrade."""
        return default_handshake_error(status, body, f"the {self.name} server")

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        """Events for a closed socket. Subclasses map their documented close codes."""
        return [unexpected_close(self.name, code, reason)]



def unknown_from(err: WireError, frame: Frame) -> Unknown:
    """The event for a frame a dialect's vocabulary could not read: a message of a type
    it does not know is ``Unknown``; anything else is ``Unknown(malformed=True)``."""
    if err.kind == UNKNOWN_TYPE:
        return Unknown(type=err.message_type or "", raw=frame)
    if err.kind == JSON:
        shown = f"<{err.problem}>" if err.problem != "not valid JSON" else "<invalid json>"
        return Unknown(type=shown, raw=frame[:200], malformed=True)
    return Unknown(type=err.message_type or "<no type>", raw=frame, malformed=True)

class FormatError(ValueError):
    """A server announced an audio format outside the provider's allowed set."""


def check_rate(server: str, what: str, rate: Any, allowed: Collection[int]) -> int:
    """A number a server announced (a sample rate, a channel count), checked against the
    provider's allowed set: anything else (10**9, 1, -1, a string) raises FormatError."""
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in allowed:
        shown = ", ".join(str(r) for r in sorted(allowed))
        value = str(rate) if isinstance(rate, int) and not isinstance(rate, bool) else repr(rate)
        raise FormatError(f"the {server} server announced an unsupported {what} {value[:40]} "
                          f"(allowed: {shown})")
    return rate


# ---- URL helpers shared by the adapters -------------------------------------------------

def check_url(url: str) -> SplitResult:
    """The parts of a user-given URL; a URL that cannot be used (bad scheme, no host, a
    broken IPv6 literal, a port outside 1..65535) raises a one-line UsageError."""
    shown = redact(url)[:200]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"not a usable URL: {shown!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise UsageError(f"not a usable URL: {shown!r} (expected http(s):// or ws(s)://HOST)")
    if port == 0:
        raise UsageError(f"not a usable URL: {shown!r} (port 0)")
    return parts


def split_base(url: str) -> tuple[str, str, str]:
    """Return (http_base, ws_base, path) for a user-given URL.

    ``http://h:1`` gives ("http://h:1", "ws://h:1", ""); ``wss://h/x`` gives
    ("https://h", "wss://h", "/x").
    """
    parts = check_url(url)
    scheme = parts.scheme.lower()
    secure = scheme in ("https", "wss")
    http = urlunsplit(("https" if secure else "http", parts.netloc, "", "", ""))
    ws = urlunsplit(("wss" if secure else "ws", parts.netloc, "", "", ""))
    return http, ws, parts.path.rstrip("/")


def ws_url(config_url: str, default_path: str, query: Mapping[str, Any] | None = None) -> str:
    """The WebSocket URL for a dialect: the user's full ws(s) URL when it has a path,
    otherwise the base URL plus the dialect's real path. Query items are appended."""
    parts = urlsplit(config_url)
    http, ws, path = split_base(config_url)
    if parts.scheme in ("ws", "wss") and path:
        base = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    else:
        base = ws + default_path
    items = {k: v for k, v in (query or {}).items() if v is not None}
    if not items:
        return base
    sep = "&" if "?" in base else "?"
    return base + sep + urlencode(items)


def http_url(config_url: str, path: str) -> str:
    http, _ws, _path = split_base(config_url)
    return http + path


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_loopback(url: str) -> bool:
    host = host_of(url)
    return host in ("localhost", "::1") or host.startswith("127.")


def default_handshake_error(status: int, body: bytes, what: str = "the server") -> Exception:
    """Map an HTTP status that refused a WebSocket upgrade or a token request."""
    from voicecli.errors import AuthError, NetworkError, NotFoundError, ProtocolError

    detail = _body_detail(body)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        return AuthError(f"{what} refused the credentials (HTTP {status}){suffix}")
    if status == 404:
        return NotFoundError(f"{what} has no such endpoint or agent (HTTP 404){suffix}")
    if status in (502, 503, 504):
        return NetworkError(f"{what} is unavailable (HTTP {status}); try again later{suffix}",
                            retryable=True)
    return ProtocolError(f"{what} answered HTTP {status}{suffix}")


def _body_detail(body: bytes) -> str:
    text = body[:400].decode("utf-8", "replace").strip()
    if not text:
        return ""
    try:
        data = parse_json(text)
    except ValueError:
        return text.splitlines()[0][:200]
    if isinstance(data, dict):
        for key in ("message", "detail", "error", "errors"):
            value = data.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, dict):
                value = value.get("message") or value.get("status")
            if isinstance(value, str) and value:
                return value[:200]
    return ""
