"""The local agent's PerfVoice dialect over a real loopback WebSocket."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Close as CloseFrame
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.uri import parse_uri

from tests.agent_dialects.conftest import (
    AGENT_ID,
    API_KEY,
    AdapterClient,
    make_config,
    open_adapter,
    raw_connect,
    recv_json,
    silence,
    tone,
    until,
    ws_url,
)
from voicecli.agent.dialects import perfvoice as pv_server
from voicecli.agent.interfaces import AgentOutput, AudioOut, Frame, ReplyText
from voicecli.agent.server import LocalAgent
from voicecli.errors import AuthError, NotFoundError
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import SendAudio
from voicecli.protocol.events import AgentAudio, AudioFormat, Interruption, Ping, SessionStarted, TranscriptFinal
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.secrets import Secret

PATH = "/v1/voice/conversation"
RATE = 16000


def adapter(agent: LocalAgent, key: str = API_KEY, agent_id: str = AGENT_ID) -> PerfVoiceAdapter:
    return PerfVoiceAdapter(DialectConfig(url=agent.url, api_key=Secret(key), agent_id=agent_id))


def chunk(pcm: bytes) -> str:
    return json.dumps({"user_audio_chunk": base64.b64encode(pcm).decode()})


async def stream(client: AdapterClient, pcm: bytes, frame: int = 4096) -> None:
    """Send PCM through the adapter in real time (2048-sample chunks, as documented)."""
    start = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), frame)):
        await client.send(SendAudio(pcm[offset:offset + frame]))
        delay = start + (index + 1) * frame / 2 / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


@pytest.mark.parametrize(("query", "status"), [
    ({"agent_id": AGENT_ID}, 401), ({"agent_id": AGENT_ID, "api_key": "pk_wrong"}, 401),
    ({"api_key": API_KEY}, 404), ({"api_key": API_KEY, "agent_id": "nobody"}, 404)])
async def test_upgrade_refusals(agent: LocalAgent, query: dict[str, str], status: int) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(ws_url(agent, PATH, **query)):
            pass
    assert info.value.response.status_code == status


async def test_adapter_maps_refusals(agent: LocalAgent) -> None:
    with pytest.raises(AuthError):
        await open_adapter(adapter(agent, key="pk_wrong"))
    with pytest.raises(NotFoundError):
        await open_adapter(adapter(agent, agent_id="nobody"))


async def test_metadata_on_open(agent: LocalAgent) -> None:
    async with raw_connect(ws_url(agent, PATH, api_key=API_KEY, agent_id=AGENT_ID)) as ws:
        meta = await recv_json(ws)
    assert meta["type"] == "conversation_initiation_metadata"
    ev = meta["conversation_initiation_metadata_event"]
    assert ev["user_input_audio_format"] == ev["agent_output_audio_format"] == "pcm_16000"


async def test_audio_before_metadata_closes_1008(agent: LocalAgent) -> None:
    url = ws_url(agent, PATH, api_key=API_KEY, agent_id=AGENT_ID)
    proto = ClientProtocol(parse_uri(url))
    proto.send_request(proto.connect())
    early = WsFrame(Opcode.TEXT, chunk(bytes(640)).encode()).serialize(mask=True, extensions=[])
    reader, writer = await asyncio.open_connection(agent.host, agent.port)
    writer.write(b"".join(proto.data_to_send()) + early)  # the audio rides with the upgrade
    await writer.drain()
    frames: list[WsFrame] = []
    try:
        async with asyncio.timeout(5):
            while data := await reader.read(65536):
                proto.receive_data(data)
                frames += [e for e in proto.events_received() if isinstance(e, WsFrame)]
                writer.write(b"".join(proto.data_to_send()))  # answers the close frame
    finally:
        writer.close()
    closes = [CloseFrame.parse(f.data) for f in frames if f.opcode is Opcode.CLOSE]
    assert closes and closes[0].code == 1008
    texts = [json.loads(f.data) for f in frames if f.opcode is Opcode.TEXT]
    assert any(t["type"] == "error" for t in texts)


async def test_audio_turn_through_the_adapter(agent: LocalAgent) -> None:
    a = adapter(agent)
    assert a.encode(SendAudio(bytes(4096))) == []  # the adapter holds audio until the metadata
    client = await open_adapter(a)
    async with client.ws:
        started = (await client.until(lambda e: isinstance(e, SessionStarted)))[-1]
        assert isinstance(started, SessionStarted) and started.output_format == AudioFormat("pcm16", RATE)
        await stream(client, tone(500, RATE) + silence(900, RATE))
        events = await client.until(lambda e: isinstance(e, TranscriptFinal) and e.role == "agent", timeout=10)
        events += await client.until(lambda e: isinstance(e, AgentAudio))  # the reply's audio follows its text
    audio = [e for e in events if isinstance(e, AgentAudio)]
    assert audio and all(e.format == AudioFormat("pcm16", RATE) and e.event_id == audio[0].event_id
                         for e in audio)


@pytest.mark.slow
async def test_barge_in(paced_agent: LocalAgent) -> None:
    agent = paced_agent  # the user speaks while the reply is still being paced out
    client = await open_adapter(adapter(agent))
    async with client.ws:
        await client.until(lambda e: isinstance(e, SessionStarted))
        await stream(client, tone(2000, RATE) + silence(800, RATE))
        first = (await client.until(lambda e: isinstance(e, AgentAudio), timeout=10))[-1]
        assert isinstance(first, AgentAudio) and first.event_id is not None
        talker = asyncio.create_task(stream(client, tone(500, RATE, freq=300) + silence(900, RATE)))
        events = await client.until(lambda e: isinstance(e, Interruption), timeout=5)
        (interruption,) = [e for e in events if isinstance(e, Interruption)]
        assert interruption.event_id == first.event_id
        await talker
        later = await client.until(lambda e: isinstance(e, AgentAudio), timeout=10)
    assert later[-1].event_id > first.event_id  # type: ignore[attr-defined, operator]


async def test_keepalive(agent: LocalAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pv_server, "PING_INTERVAL_S", 0.2)
    client = await open_adapter(adapter(agent))
    async with client.ws:
        await client.until(lambda e: isinstance(e, Ping), timeout=3)
        pings = [e for e in await client.read_for(0.8) if isinstance(e, Ping)]
        assert pings and client.ended is None
    pongs = [json.loads(f) for f in client.sent if isinstance(f, str) and "pong" in f]
    assert len(pongs) >= 2 and all(isinstance(p["event_id"], int) for p in pongs)


async def test_not_json_is_an_error_message(agent: LocalAgent) -> None:
    async with raw_connect(ws_url(agent, PATH, api_key=API_KEY, agent_id=AGENT_ID)) as ws:
        await recv_json(ws)
        await ws.send("garbage")
        error = await until(ws, "error")
        assert error["error_event"]["message"]
        await ws.send(chunk(tone(100, RATE)))  # still open, and audio is now fine
        await ws.send(json.dumps({"type": "user_message", "text": "ignored"}))
        await asyncio.sleep(0.2)
        assert ws.close_code is None


@pytest.mark.parametrize(("fault", "first"), [(None, True), ("variant:legacy-order", False)])
async def test_reply_text_comes_with_the_first_audio(monkeypatch: pytest.MonkeyPatch, fault: str | None,
                                                     first: bool) -> None:
    seen: list[tuple[pv_server.PerfVoiceServer, AgentOutput]] = []
    encode = pv_server.PerfVoiceServer.encode

    def spy(self: pv_server.PerfVoiceServer, output: AgentOutput) -> list[Frame]:
        seen.append((self, output))
        return encode(self, output)

    monkeypatch.setattr(pv_server.PerfVoiceServer, "encode", spy)
    query = {"api_key": API_KEY, "agent_id": AGENT_ID, **({"fault": fault} if fault else {})}
    async with LocalAgent(make_config(greeting="Hello from the agent. How can I help?")) as server:
        async with raw_connect(ws_url(server, PATH, **query)) as ws:
            before: list[dict[str, object]] = []
            await until(ws, "agent_response", seen=before)
            if not any(m["type"] == "audio" for m in before):
                await until(ws, "audio")
    dialect = seen[0][0]
    assert dialect.reply_text_first is first
    outputs = [o for _d, o in seen]
    replies = [i for i, o in enumerate(outputs) if isinstance(o, ReplyText)]
    audio = [i for i, o in enumerate(outputs) if isinstance(o, AudioOut)]
    assert len(replies) == 1 and replies[0] < audio[0]
    assert outputs[replies[0]] == ReplyText(1, "Hello from the agent. How can I help?")
