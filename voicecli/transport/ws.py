"""The WebSocket connection to a provider.

Handshake and close failures become voicecli errors here; the messages never carry
credentials (URLs are redacted).
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
)
from websockets.frames import CloseCode

from voicecli.errors import NetworkError, ProtocolError, UsageError, VoicecliError
from voicecli.protocol.base import Frame, Handshake, is_loopback
from voicecli.transport.errors import ConnectionEnded, HandshakeRejected
from voicecli.transport.guarded import GuardedConnection
from voicecli.transport.netmap import map_os_error, where

# One audio frame is a few kB; a provider may send a whole encoded sentence (VoiceAgent
# mp3/opus chunks) in one message. 16 MiB matches ElevenLabs' own client; with
# max_queue=32 a stalled consumer holds at most 512 MiB worst case, typically far less.
MAX_MESSAGE = 16 * 1024 * 1024
MAX_QUEUE = 32


class Connection:
    """An open WebSocket to a provider. ``recv`` raises :class:`ConnectionEnded`."""

    def __init__(self, ws: ClientConnection, url: str, max_size: int = 0) -> None:
        self._ws = ws
        self.url = url
        self.max_size = max_size or MAX_MESSAGE
        self.close_code: int | None = None
        self.close_reason = ""

    async def send(self, frame: Frame) -> None:
        try:
            await self._ws.send(frame)
        except ConnectionClosed as exc:
            raise self._ended(exc) from None

    async def recv(self) -> Frame:
        try:
            message: Frame = await self._ws.recv()
            return message
        except ConnectionClosed as exc:
            raise self._ended(exc) from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        try:
            await asyncio.wait_for(self._ws.close(code, reason), timeout=3)
        except (TimeoutError, ConnectionClosed, OSError):
            pass

    async def alive(self, timeout: float) -> bool:
        """Whether the peer answers a WebSocket ping within ``timeout`` seconds (a server
        that stalled mid-reply looks like one that finished, except that it answers nothing).
        A connection that is closing or closed is not a stalled one: True, and its end comes
        through ``recv`` with its close code (a ping would race that report)."""
        try:
            waiter = await self._ws.ping()
            await asyncio.wait_for(waiter, timeout)
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False
        return True

    @property
    def latency_ms(self) -> float:
        return self._ws.latency * 1000

    def _ended(self, exc: ConnectionClosed) -> ConnectionEnded:
        rcvd, sent = exc.rcvd, exc.sent
        if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG and not exc.rcvd_then_sent:
            # we closed because the server's frame was over max_size: say so, whatever the
            # server answered (or if it never did)
            self.close_code = int(CloseCode.MESSAGE_TOO_BIG)
            self.close_reason = f"a frame over {self.max_size // (1024 * 1024)} MiB"
        else:
            self.close_code = rcvd.code if rcvd is not None else None
            self.close_reason = " ".join(rcvd.reason.split()) if rcvd is not None else ""
        return ConnectionEnded(self.close_code, self.close_reason)


async def connect(handshake: Handshake, *, open_timeout: float = 10.0,
                  allow_insecure: bool = False, max_size: int = MAX_MESSAGE) -> Connection:
    """Open the WebSocket described by ``handshake``.

    Raises :class:`HandshakeRejected` for an HTTP status (the adapter words it), and
    voicecli errors for everything else.
    """
    url = handshake.url
    if url.startswith("ws://") and not is_loopback(url) and not allow_insecure:
        raise UsageError(f"refusing unencrypted ws:// to {where(url)}; use wss:// or --allow-insecure")
    kwargs: dict[str, Any] = {
        "additional_headers": dict(handshake.headers) or None,
        "open_timeout": open_timeout,
        "max_size": max_size,
        "max_queue": MAX_QUEUE,
        "ping_interval": 20,
        "ping_timeout": 20,
        "close_timeout": 3,
        "user_agent_header": "voicecli",
        "proxy": None,
    }
    if handshake.subprotocols:
        kwargs["subprotocols"] = list(handshake.subprotocols)
    guards: list[GuardedConnection] = []

    def guarded(*args: Any, **kw: Any) -> GuardedConnection:
        conn = GuardedConnection(*args, **kw)
        guards.append(conn)
        return conn

    kwargs["create_connection"] = guarded
    try:
        ws = await ws_connect(url, **kwargs)
    except InvalidStatus as exc:
        response = exc.response
        raise HandshakeRejected(response.status_code, bytes(response.body or b"")) from None
    except InvalidURI:
        raise UsageError(f"not a WebSocket URL: {where(url)}") from None
    except InvalidHandshake as exc:
        raise _handshake_error(url, exc, guards[-1] if guards else None) from None
    except (OSError, TimeoutError) as exc:
        raise map_os_error(exc, url, open_timeout) from None
    except ConnectionClosed:
        raise NetworkError(f"{where(url)} closed the connection during the handshake") from None
    return Connection(ws, url, max_size)


def _handshake_error(url: str, exc: InvalidHandshake, guard: GuardedConnection | None) -> VoicecliError:
    if guard is not None and guard.not_http:
        return ProtocolError(f"{where(url)} did not answer with HTTP (not a WebSocket server?)")
    if guard is not None and guard.status is not None and guard.status != 101:
        return ProtocolError(f"{where(url)} answered HTTP {guard.status} without a WebSocket upgrade")
    if isinstance(exc, InvalidMessage):
        return ProtocolError(f"{where(url)} did not answer with a valid HTTP response "
                             "(not a WebSocket server?)")
    return ProtocolError(f"WebSocket handshake with {where(url)} failed: {exc.__class__.__name__}")
