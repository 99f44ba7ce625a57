"""Fixtures for the local agent tests: a real server on loopback and a real websockets client."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from websockets.asyncio.client import ClientConnection, connect

from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent

API_KEY = "sk_test_local_key"
AGENT_ID = "agent-1"
ATOMS_PATH = "/atoms/v1/agent/connect"


def make_config(**overrides: Any) -> AgentConfig:
    """The test agent: its speech on a virtual clock (the same chunks and events, no waiting);
    tests that measure timing ask for ``speed=1.0`` (real time)."""
    options: dict[str, Any] = dict(api_key=API_KEY, agent_ids={AGENT_ID}, greeting="", brain="echo",
                                   speech=False, allow_faults=True, speed=math.inf)
    options.update(overrides)
    return AgentConfig(**options)


@pytest.fixture
async def agent() -> AsyncIterator[LocalAgent]:
    async with LocalAgent(make_config()) as server:
        yield server


@pytest.fixture
async def paced_agent() -> AsyncIterator[LocalAgent]:
    """The test agent speaking in real time (for tests that measure timing)."""
    async with LocalAgent(make_config(speed=1.0)) as server:
        yield server


def ws_url(agent: LocalAgent, path: str = ATOMS_PATH, **query: Any) -> str:
    base = agent.url.replace("http://", "ws://") + path
    return base + ("?" + urlencode(query) if query else "")


def atoms_connect(agent: LocalAgent, *, key: str | None = API_KEY, header: bool = True,
                  **query: Any) -> Any:
    """Open the Atoms socket (an async context manager)."""
    query.setdefault("agent_id", AGENT_ID)
    headers = {}
    if key is not None and header:
        headers["Authorization"] = f"Bearer {key}"
    elif key is not None:
        query["token"] = key
    # max_queue=None: a test that stops reading mid-reply still completes the close handshake
    # (a bounded queue stops the library reading, and the close waits out its 10 s timeout)
    return connect(ws_url(agent, **query), additional_headers=headers, open_timeout=5, max_size=None,
                   max_queue=None)


async def recv_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    message: dict[str, Any] = json.loads(raw)
    return message


async def until(ws: ClientConnection, kind: str, timeout: float = 10.0,
                seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Read messages until one of type ``kind``; the ones before go to ``seen``."""
    deadline = time.monotonic() + timeout
    while True:
        message = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        message["_t"] = time.monotonic()
        if message.get("type") == kind:
            return message
        if seen is not None:
            seen.append(message)


def tone(ms: int, rate: int, freq: float = 440.0, amplitude: float = 0.3) -> bytes:
    n = rate * ms // 1000
    return struct.pack(f"<{n}h", *(int(amplitude * 32767 * math.sin(2 * math.pi * freq * i / rate))
                                   for i in range(n)))


def silence(ms: int, rate: int) -> bytes:
    return b"\x00\x00" * (rate * ms // 1000)


def append(pcm: bytes) -> str:
    return json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()})


async def stream(ws: ClientConnection, pcm: bytes, rate: int, frame_ms: int = 20) -> float:
    """Send PCM in real time as ``frame_ms`` appends; returns the monotonic time of the first."""
    size = rate * frame_ms // 1000 * 2
    start = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), size)):
        await ws.send(append(pcm[offset:offset + size]))
        delay = start + (index + 1) * frame_ms / 1000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return start


def audio_seconds(messages: list[dict[str, Any]], rate: int) -> float:
    return sum(len(base64.b64decode(m["audio"])) for m in messages
               if m["type"] == "output_audio.delta") / 2 / rate
