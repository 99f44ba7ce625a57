"""The local agent's ElevenLabs dialect over a real loopback WebSocket."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.exceptions import InvalidStatus

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
    until,
    ws_url,
)
from voicecli.agent.dialects import _elevenlabs_auth as el_auth
from voicecli.agent.dialects import elevenlabs as el_server
from voicecli.agent.keys import LocalKeys
from voicecli.agent.server import LocalAgent
from voicecli.errors import AuthError, NotFoundError
from voicecli.protocol.base import DialectConfig, HttpRequest
from voicecli.protocol.commands import Close, ContextUpdate, SendAudio, SendText, UserActivity
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    ErrorEvent,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
    TextDelta,
    TranscriptCorrection,
    TranscriptFinal,
)
from voicecli.secrets import Secret

PATH = "/v1/convai/conversation"


def adapter(agent: LocalAgent, key: str | None = API_KEY, **kw: object) -> ElevenLabsAdapter:
    kw.setdefault("agent_id", AGENT_ID)
    return ElevenLabsAdapter(DialectConfig(url=agent.url, api_key=Secret(key) if key else None,
                                           **kw))  # type: ignore[arg-type]


def init(**extra: object) -> str:
    return json.dumps({"type": "conversation_initiation_client_data", **extra})


# ---- signed URL endpoint ------------------------------------------------------------------

async def test_signed_url_endpoint(agent: LocalAgent) -> None:
    url = f"{agent.url}/v1/convai/conversation/get-signed-url?agent_id={AGENT_ID}"
    status, body = await http(HttpRequest("GET", url, {"xi-api-key": API_KEY}))
    assert status == 200
    signed = json.loads(body)["signed_url"]
    parts = urlsplit(signed)
    assert parts.scheme == "ws" and parts.path == PATH and str(agent.port) in parts.netloc
    assert parse_qs(parts.query)["agent_id"] == [AGENT_ID] and parse_qs(parts.query)["token"]


@pytest.mark.parametrize(("query", "headers", "status"), [
    (f"agent_id={AGENT_ID}", {}, 401), (f"agent_id={AGENT_ID}", {"xi-api-key": "wrong"}, 401),
    ("", {"xi-api-key": API_KEY}, 422), ("agent_id=nobody", {"xi-api-key": API_KEY}, 404)])
async def test_signed_url_refusals(agent: LocalAgent, query: str, headers: dict[str, str], status: int) -> None:
    url = f"{agent.url}/v1/convai/conversation/get-signed-url?{query}"
    got, _body = await http(HttpRequest("GET", url, headers))
    assert got == status


# ---- handshake refusals -------------------------------------------------------------------

@pytest.mark.parametrize(("query", "headers", "status"), [
    ({"agent_id": AGENT_ID}, {}, 403),                           # private agent, no signed URL
    ({"agent_id": AGENT_ID}, {"xi-api-key": "wrong"}, 401),
    ({"agent_id": AGENT_ID, "token": "forged"}, {}, 403),
    ({}, {"xi-api-key": API_KEY}, 400),
    ({"agent_id": "nobody"}, {"xi-api-key": API_KEY}, 404),
    ({"agent_id": AGENT_ID, "output_format": "mp3_44100"}, {"xi-api-key": API_KEY}, 400),
])
async def test_upgrade_refusals(agent: LocalAgent, query: dict[str, str], headers: dict[str, str],
                                status: int) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(ws_url(agent, PATH, **query), headers):
            pass
    assert info.value.response.status_code == status


async def test_adapter_maps_refusals(agent: LocalAgent) -> None:
    a = adapter(agent, key="wrong-key")
    with pytest.raises(AuthError):
        await open_adapter(a)
    a = adapter(agent, agent_id="nobody")
    with pytest.raises(NotFoundError):
        await open_adapter(a)


async def signed_url(agent: LocalAgent, query: str = "") -> dict[str, str]:
    url = f"{agent.url}/v1/convai/conversation/get-signed-url?agent_id={AGENT_ID}{query}"
    status, body = await http(HttpRequest("GET", url, {"xi-api-key": API_KEY}))
    assert status == 200, body
    reply: dict[str, str] = json.loads(body)
    return reply


async def conversation_id(url: str) -> str:
    async with raw_connect(url) as ws:
        await ws.send(init())
        meta = await recv_json(ws)
    assert meta["type"] == "conversation_initiation_metadata"
    return str(meta["conversation_initiation_metadata_event"]["conversation_id"])


async def test_signed_url_is_reusable_until_it_expires(agent: LocalAgent) -> None:
    now = [1000.0]
    agent.keys = LocalKeys(API_KEY, {AGENT_ID}, clock=lambda: now[0])
    signed = (await signed_url(agent))["signed_url"]
    first, second = await conversation_id(signed), await conversation_id(signed)
    assert first != second  # two conversations from one signed URL
    now[0] += el_auth.SIGNED_URL_TTL_S - 1
    await conversation_id(signed)
    now[0] += 1
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(signed):
            pass
    assert info.value.response.status_code == 403


async def test_signed_url_with_conversation_id_is_single_use(agent: LocalAgent) -> None:
    reply = await signed_url(agent, "&include_conversation_id=true")
    assert reply["conversation_id"].startswith("conv_")
    assert await conversation_id(reply["signed_url"]) == reply["conversation_id"]
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(reply["signed_url"]):
            pass
    assert info.value.response.status_code == 403


async def test_public_agent_on_a_server_without_key(open_agent: LocalAgent) -> None:
    async with raw_connect(ws_url(open_agent, PATH, agent_id=AGENT_ID)) as ws:
        await ws.send(init())
        meta = await recv_json(ws)
    ev = meta["conversation_initiation_metadata_event"]
    assert ev["agent_output_audio_format"] == "pcm_16000" and ev["user_input_audio_format"] == "pcm_16000"
    assert ev["conversation_id"]


# ---- conversations through the client adapter ---------------------------------------------

async def test_text_turn_through_the_adapter(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    async with client.ws:
        (started,) = await client.until(lambda e: isinstance(e, SessionStarted))
        assert isinstance(started, SessionStarted) and started.output_format == AudioFormat("pcm16", 16000)
        await client.send(SendText("good morning"))
        events = await client.until(lambda e: isinstance(e, TranscriptFinal) and e.role == "agent")
        assert events[-1].text == "You said: good morning."  # type: ignore[attr-defined]
        # the hosted order: the reply's text first, its audio right after
        events = await client.until(lambda e: isinstance(e, AgentAudio))
        audio = [e for e in events if isinstance(e, AgentAudio)]
        assert audio and all(a.format == AudioFormat("pcm16", 16000) for a in audio)
        assert len({a.event_id for a in audio}) == 1
        await client.send(ContextUpdate("the user is on the pricing page"))
        await client.send(UserActivity())
        await client.send(Close())
    await client.ws.wait_closed()


async def test_audio_turn(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    async with client.ws:
        await client.until(lambda e: isinstance(e, SessionStarted))
        pcm = tone(500, 16000) + silence(900, 16000)
        for offset in range(0, len(pcm), 640):
            await client.send(SendAudio(pcm[offset:offset + 640]))
        events = await client.until(lambda e: isinstance(e, TranscriptFinal) and e.role == "agent")
        events += await client.until(lambda e: isinstance(e, AgentAudio))
        assert any(isinstance(e, AgentAudio) for e in events)


async def test_barge_in_and_correction(agent: LocalAgent) -> None:
    a = adapter(agent, options={"client_events": ["audio", "interruption", "agent_response",
                                                  "agent_response_correction", "user_transcript",
                                                  "agent_chat_response_part", "ping"]})
    client = await open_adapter(a)
    async with client.ws:
        await client.until(lambda e: isinstance(e, SessionStarted))
        await client.send(SendText("tell me something rather long so that I can interrupt you now"))
        first = await client.until(lambda e: isinstance(e, AgentAudio))
        assert any(isinstance(e, TextDelta) for e in first)
        first_id = first[-1].event_id  # type: ignore[attr-defined]
        await client.send(SendText("stop"))
        events = await client.until(lambda e: isinstance(e, TranscriptFinal) and e.text == "You said: stop.")
        events += await client.until(lambda e: isinstance(e, AgentAudio))
        (interruption,) = [e for e in events if isinstance(e, Interruption)]
        assert interruption.event_id == first_id
        corrections = [e for e in events if isinstance(e, TranscriptCorrection)]
        assert corrections and corrections[0].original.startswith("You said: tell me")
        after = [e for e in events[events.index(interruption):] if isinstance(e, AgentAudio)]
        assert after and all(e.event_id is not None and e.event_id > first_id for e in after)


async def test_keepalive(agent: LocalAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(el_server, "PING_INTERVAL_S", 0.2)
    client = await open_adapter(adapter(agent))
    async with client.ws:
        await client.until(lambda e: isinstance(e, SessionStarted))
        await client.until(lambda e: isinstance(e, Ping), timeout=3)
        pings = [e for e in await client.read_for(0.7) if isinstance(e, Ping)]
        assert pings and client.ended is None
    assert sum(1 for f in client.sent if '"pong"' in f) >= 2


async def test_ulaw_formats(agent: LocalAgent) -> None:
    url = ws_url(agent, PATH, agent_id=AGENT_ID, output_format="ulaw_8000", input_format="ulaw_8000")
    a = ElevenLabsAdapter(DialectConfig(url=url, agent_id=AGENT_ID))
    client = await open_adapter_with_key(a)
    async with client.ws:
        (started,) = await client.until(lambda e: isinstance(e, SessionStarted))
        assert isinstance(started, SessionStarted) and started.output_format == AudioFormat("ulaw", 8000)
        await client.send(SendText("hello"))
        events = await client.until(lambda e: isinstance(e, AgentAudio))
        assert events[-1].format == AudioFormat("pcm16", 8000)  # type: ignore[attr-defined]


async def open_adapter_with_key(a: ElevenLabsAdapter):  # type: ignore[no-untyped-def]
    from websockets.asyncio.client import connect

    from tests.agent_dialects.conftest import AdapterClient

    hs = a.handshake()
    ws = await connect(hs.url, additional_headers={"xi-api-key": API_KEY}, max_size=None)
    for frame in hs.initial_frames:
        await ws.send(frame)
    return AdapterClient(a, ws)


# ---- errors and closes --------------------------------------------------------------------

async def test_override_error_closes_1008(agent: LocalAgent) -> None:
    a = adapter(agent, options={"voice_id": "v1", "speed": 9})  # speed out of range
    client = await open_adapter(a)
    async with client.ws:
        events = await client.until(lambda e: isinstance(e, SessionEnded))
    (error,) = [e for e in events if isinstance(e, ErrorEvent)]
    assert error.code == "override_error" and "speed" in error.message
    assert client.ended is not None and client.ended.close_code == 1008
    assert client.ended.error is not None and "speed" in client.ended.error


@pytest.mark.parametrize("frame", ["not json", "[1]", json.dumps({"type": "mystery"}),
                                   json.dumps({"user_audio_chunk": "%%%"})])
async def test_invalid_messages_close_1008(agent: LocalAgent, frame: str) -> None:
    async with raw_connect(ws_url(agent, PATH, agent_id=AGENT_ID), {"xi-api-key": API_KEY}) as ws:
        await ws.send(init())
        await recv_json(ws)
        await ws.send(frame)
        code, _reason, frames = await closed(ws)
    errors = [json.loads(f) for f in frames if isinstance(f, str) and '"error"' in f]
    assert code == 1008 and errors and errors[-1]["error_event"]["code"] == 1008


async def test_first_message_other_than_initiation_starts_with_defaults(agent: LocalAgent) -> None:
    async with raw_connect(ws_url(agent, PATH, agent_id=AGENT_ID), {"xi-api-key": API_KEY}) as ws:
        await ws.send(json.dumps({"type": "user_message", "text": "hi"}))
        assert (await recv_json(ws))["type"] == "conversation_initiation_metadata"
        response = await until(ws, "agent_response")
    assert response["agent_response_event"]["agent_response"] == "You said: hi."


async def test_default_client_events_only(agent: LocalAgent) -> None:
    async with raw_connect(ws_url(agent, PATH, agent_id=AGENT_ID), {"xi-api-key": API_KEY}) as ws:
        await ws.send(init())
        await recv_json(ws)
        await ws.send(json.dumps({"type": "user_message", "text": "hello there"}))
        seen: list[dict[str, object]] = []
        await until(ws, "agent_response", seen=seen)
        seen.append(await until(ws, "audio", seen=seen))  # the reply's audio follows its text
    kinds = {m["type"] for m in seen}
    assert kinds <= el_server.DEFAULT_CLIENT_EVENTS and "audio" in kinds
    audio = next(m for m in seen if m["type"] == "audio")
    assert base64.b64decode(audio["audio_event"]["audio_base_64"])  # type: ignore[index]


@pytest.mark.parametrize("code", [1011, 1002])
async def test_error_close_codes_reach_the_adapter(agent: LocalAgent, code: int) -> None:
    url = ws_url(agent, PATH, agent_id=AGENT_ID, fault=f"close:{code}@1")
    a = ElevenLabsAdapter(DialectConfig(url=url, agent_id=AGENT_ID))
    client = await open_adapter_with_key(a)
    async with client.ws:
        await client.until(lambda e: isinstance(e, SessionEnded))
    assert client.ended is not None and client.ended.close_code == code
    assert client.ended.error is not None and f"code {code}" in client.ended.error
    assert client.ended.retryable is (code == 1011)


async def test_client_close_is_1000(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    await client.until(lambda e: isinstance(e, SessionStarted))
    await client.send(Close())
    await client.ws.close(1000)
    (ended,) = client.adapter.on_close(1000, "")
    assert ended == SessionEnded(reason="ended by the user", close_code=1000)
