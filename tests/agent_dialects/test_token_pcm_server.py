"""The local agent's token-pcm dialect over a real loopback WebSocket."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.agent_dialects.conftest import (
    AGENT_ID,
    API_KEY,
    closed,
    http,
    open_adapter,
    raw_connect,
    recv_json,
    silence,
    tone,
)
from voicecli.agent.dialects import token_pcm as tp_server
from voicecli.agent.server import LocalAgent
from voicecli.errors import AuthError
from voicecli.protocol.base import DialectConfig, HttpRequest
from voicecli.protocol.commands import SendAudio
from voicecli.protocol.events import AgentAudio, AudioFormat, Authenticated, ErrorEvent, SessionEnded, SessionStarted
from voicecli.protocol.token_pcm import TokenPcmAdapter
from voicecli.secrets import Secret

RATE = 16000


def adapter(agent: LocalAgent, key: str = API_KEY) -> TokenPcmAdapter:
    return TokenPcmAdapter(DialectConfig(url=agent.url, api_key=Secret(key)))


async def token(agent: LocalAgent, body: bytes | None = None) -> dict[str, str]:
    status, raw = await http(HttpRequest("POST", f"{agent.url}/api/v1/sdk/token",
                                         {"Authorization": f"Bearer {API_KEY}"}, body))
    assert status == 200
    data: dict[str, str] = json.loads(raw)
    return data


async def test_token_endpoint(agent: LocalAgent) -> None:
    data = await token(agent)
    assert data["token"] and data["ws_url"] == agent.url.replace("http://", "ws://") + "/api/v1/sdk/ws"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {API_KEY}"}):
        status, _ = await http(HttpRequest("POST", f"{agent.url}/api/v1/sdk/token", headers))
        assert status == 401


async def test_adapter_refused_key(agent: LocalAgent) -> None:
    with pytest.raises(AuthError):
        await open_adapter(adapter(agent, key="wrong"))


async def test_handshake_and_audio_turn_through_the_adapter(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    async with client.ws:
        first = await client.until(lambda e: isinstance(e, SessionStarted))
        assert [type(e) for e in first] == [Authenticated, SessionStarted]
        pcm = tone(500, RATE) + silence(900, RATE)
        for offset in range(0, len(pcm), 1000):  # odd sizes: the adapter re-frames
            await client.send(SendAudio(pcm[offset:offset + 1000]))
        assert all(isinstance(f, bytes) and len(f) == 640 for f in client.sent[1:] if f)
        await client.until(lambda e: isinstance(e, AgentAudio), timeout=5)
        audio = [e for e in await client.read_for(1.0) if isinstance(e, AgentAudio)]
    assert audio and all(len(e.data) == 640 and e.format == AudioFormat("pcm16", RATE) for e in audio)


@pytest.mark.slow
async def test_barge_in_stops_the_frames(paced_agent: LocalAgent) -> None:
    agent = paced_agent
    data = await token(agent)
    async with raw_connect(data["ws_url"]) as ws:
        await ws.send(json.dumps({"token": data["token"]}))
        assert (await recv_json(ws))["type"] == "connected"
        assert (await recv_json(ws))["type"] == "agent_ready"
        arrivals: list[float] = []

        async def reader() -> None:
            while True:
                frame = await ws.recv()
                if isinstance(frame, bytes):
                    assert len(frame) == 640
                    arrivals.append(time.monotonic())

        async def speak(pcm: bytes) -> None:
            start = time.monotonic()
            for index, offset in enumerate(range(0, len(pcm), 640)):
                await ws.send(pcm[offset:offset + 640])
                delay = start + (index + 1) * 0.02 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

        task = asyncio.create_task(reader())
        try:
            await speak(tone(2000, RATE) + silence(800, RATE))  # a long reply (echo plays it back)
            while not arrivals:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            barge_at = time.monotonic()
            await speak(tone(400, RATE, freq=300) + silence(900, RATE))
            await asyncio.sleep(1.0)
        finally:
            task.cancel()
    gaps = [(b - a, a) for a, b in zip(arrivals, arrivals[1:], strict=False) if a >= barge_at - 0.05]
    longest, at = max(gaps)
    assert longest >= 0.4, "the interrupted reply kept streaming"
    assert at < barge_at + 0.6, "the reply was not cut soon after the user spoke"
    assert arrivals[-1] > at + longest - 0.01, "no new reply after the barge-in"


@pytest.mark.parametrize(("first", "code", "close"), [
    ("not json", "INVALID_AUTH", 4002),
    (json.dumps({"tok": "x"}), "INVALID_AUTH", 4002),
    (b"\x00\x01" * 320, "INVALID_AUTH", 4002),
    (json.dumps({"token": "forged"}), "AUTH_FAILED", 4003),
])
async def test_first_frame_refusals(agent: LocalAgent, first: str | bytes, code: str, close: int) -> None:
    data = await token(agent)
    async with raw_connect(data["ws_url"]) as ws:
        await ws.send(first)
        got, _reason, frames = await closed(ws)
    assert got == close
    (error,) = [json.loads(f) for f in frames]
    assert error["type"] == "error" and error["code"] == code and error["message"]


async def test_token_is_single_use(agent: LocalAgent) -> None:
    data = await token(agent)
    async with raw_connect(data["ws_url"]) as ws:
        await ws.send(json.dumps({"token": data["token"]}))
        assert (await recv_json(ws))["type"] == "connected"
    async with raw_connect(data["ws_url"]) as ws:
        await ws.send(json.dumps({"token": data["token"]}))
        got, _reason, _frames = await closed(ws)
    assert got == 4003


async def test_auth_timeout_4001_by_a_timer(agent: LocalAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tp_server.TokenPcmServer, "ready_timeout", 0.2)
    data = await token(agent)
    async with raw_connect(data["ws_url"]) as ws:
        opened = time.monotonic()
        got, _reason, frames = await closed(ws)  # the client sends nothing at all
        waited = time.monotonic() - opened
    assert got == 4001 and 0.15 <= waited < 3.0
    assert [json.loads(f) for f in frames] == [
        {"type": "error", "code": "AUTH_TIMEOUT", "message": "No token received within 0.2 seconds"}]


async def test_a_token_in_time_stops_the_timer(agent: LocalAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tp_server.TokenPcmServer, "ready_timeout", 0.3)
    data = await token(agent)
    async with raw_connect(data["ws_url"]) as ws:
        await ws.send(json.dumps({"token": data["token"]}))
        assert (await recv_json(ws))["type"] == "connected"
        assert (await recv_json(ws))["type"] == "agent_ready"
        await asyncio.sleep(0.5)  # past the timeout: the session stays open
        await ws.send(tone(300, RATE))
        pong = await ws.ping()
        await asyncio.wait_for(pong, 2)


async def test_session_setup_failed_4500_through_the_adapter(agent: LocalAgent) -> None:
    data = await token(agent, json.dumps({"agent_id": "retired-kiosk"}).encode())
    a = TokenPcmAdapter(DialectConfig(url=agent.url, api_key=Secret(API_KEY)))
    a.on_http_response(200, json.dumps(data).encode())
    from websockets.asyncio.client import connect

    from tests.agent_dialects.conftest import AdapterClient

    hs = a.handshake()
    client = AdapterClient(a, await connect(hs.url))
    for frame in hs.initial_frames:
        await client.ws.send(frame)
    events = await client.until(lambda e: isinstance(e, SessionEnded))
    (error,) = [e for e in events if isinstance(e, ErrorEvent)]
    assert error.code == "SESSION_SETUP_FAILED"
    assert client.ended is not None and client.ended.close_code == 4500 and client.ended.retryable


async def test_known_agent_in_token_body(agent: LocalAgent) -> None:
    data = await token(agent, json.dumps({"agent_id": AGENT_ID}).encode())
    async with raw_connect(data["ws_url"]) as ws:
        await ws.send(json.dumps({"token": data["token"]}))
        assert (await recv_json(ws))["type"] == "connected"


async def test_websocket_keepalive_and_client_close(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    await client.until(lambda e: isinstance(e, SessionStarted))
    pong = await client.ws.ping()
    await asyncio.wait_for(pong, 2)
    await client.ws.close(1000)
    assert client.ws.close_code == 1000
    (ended,) = client.adapter.on_close(1000, "")
    assert ended.error is None
