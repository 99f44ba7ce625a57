"""Local agent dialect tests: a real server on loopback, driven by raw websockets clients
and by the client adapters of ``voicecli.protocol`` (no session layer involved)."""

from __future__ import annotations

import asyncio
import math
import struct
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.agent.conftest import (  # noqa: F401 - shared fixtures and helpers
    AGENT_ID,
    API_KEY,
    agent,
    make_config,
    paced_agent,
    recv_json,
    until,
    ws_url,
)
from voicecli.agent.server import LocalAgent
from voicecli.protocol.base import Adapter, HttpRequest
from voicecli.protocol.commands import Command, Pong
from voicecli.protocol.events import Event, Ping, SessionEnded
from voicecli.transport import http_request


@pytest.fixture
async def open_agent() -> AsyncIterator[LocalAgent]:
    """A server with no API key (public agents, no auth)."""
    async with LocalAgent(make_config(api_key=None)) as server:
        yield server


def raw_connect(url: str, headers: dict[str, str] | None = None) -> Any:
    return connect(url, additional_headers=headers or {}, open_timeout=5, max_size=None)


async def http(request: HttpRequest) -> tuple[int, bytes]:
    return await http_request(request, timeout=5)


async def closed(ws: ClientConnection, timeout: float = 5.0) -> tuple[int | None, str, list[Any]]:
    """Read until the server closes; the close code, reason and frames read before."""
    frames: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                frames.append(await ws.recv())
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        return (rcvd.code if rcvd else None), (rcvd.reason if rcvd else ""), frames
    raise AssertionError("not closed")  # pragma: no cover


def tone(ms: int, rate: int, freq: float = 440.0, amplitude: float = 0.3) -> bytes:
    n = rate * ms // 1000
    return struct.pack(f"<{n}h", *(int(amplitude * 32767 * math.sin(2 * math.pi * freq * i / rate))
                                   for i in range(n)))


def silence(ms: int, rate: int) -> bytes:
    return b"\x00\x00" * (rate * ms // 1000)


@dataclass
class AdapterClient:
    """A client adapter over a real socket: feeds every frame, keeps every event, and
    answers pings at once (as the session layer does)."""

    adapter: Adapter
    ws: ClientConnection
    events: list[Event] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)
    auto_pong: bool = True
    ended: SessionEnded | None = None
    cursor: int = 0  # events before it were returned by until()/read_for()

    async def send(self, command: Command) -> None:
        for frame in self.adapter.encode(command):
            self.sent.append(frame)
            await self.ws.send(frame)

    async def until(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> list[Event]:
        """Events read until one matches (returned list ends with it)."""
        origin = start = self.cursor
        deadline = time.monotonic() + timeout
        while True:
            for index in range(start, len(self.events)):
                if predicate(self.events[index]):
                    self.cursor = index + 1
                    return self.events[origin:index + 1]
            start = self.cursor = len(self.events)
            if self.ended is not None:
                raise AssertionError(f"session ended first: {self.ended}")
            try:
                frame = await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic()))
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                for ev in self.adapter.on_close(rcvd.code if rcvd else None, rcvd.reason if rcvd else ""):
                    self.events.append(ev)
                    if isinstance(ev, SessionEnded):
                        self.ended = ev
                continue
            for ev in self.adapter.feed(frame):
                self.events.append(ev)
                if isinstance(ev, Ping) and self.auto_pong:
                    await self.send(Pong(ev.event_id))

    async def read_for(self, seconds: float) -> list[Event]:
        start = self.cursor
        try:
            await self.until(lambda ev: False, timeout=seconds)
        except (TimeoutError, AssertionError):
            pass
        self.cursor = len(self.events)
        return self.events[start:]


async def open_adapter(adapter: Adapter) -> AdapterClient:
    while (request := adapter.prepare()) is not None:
        status, body = await http(request)
        adapter.on_http_response(status, body)
    hs = adapter.handshake()
    try:
        # max_queue=None: a test stops reading where its check is done, often mid-reply; with a
        # bounded queue the library then stops reading too, never sees the server's close
        # frame behind the rest of the reply, and the close waits out its 10 s timeout
        ws = await connect(hs.url, additional_headers=dict(hs.headers), open_timeout=5, max_size=None,
                           max_queue=None)
    except InvalidStatus as exc:  # what the transport layer does with a refused upgrade
        response = exc.response
        raise adapter.handshake_error(response.status_code, bytes(response.body or b"")) from exc
    client = AdapterClient(adapter, ws)
    for frame in hs.initial_frames:
        await ws.send(frame)
    client.events.extend(adapter.on_open())
    return client
