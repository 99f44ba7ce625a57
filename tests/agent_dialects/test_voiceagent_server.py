"""The local agent's VoiceAgent dialect over a real loopback WebSocket."""

from __future__ import annotations

import base64
import json

import pytest
from websockets.exceptions import InvalidStatus

from tests.agent.gates import GatedSynth
from tests.agent_dialects.conftest import (
    API_KEY,
    make_config,
    open_adapter,
    raw_connect,
    recv_json,
    silence,
    tone,
    until,
    ws_url,
)
from voicecli.agent.server import LocalAgent
from voicecli.audio import codecs
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import CommitAudio, Interrupt, SendAudio, SendText
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    ErrorEvent,
    Interruption,
    SessionStarted,
    TextDelta,
    TranscriptFinal,
    TurnComplete,
)
from voicecli.protocol.voiceagent import STREAM_END, VoiceAgentAdapter

PATH = "/voiceagent"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# two of the SDK's sentence groups once echoed ("You said: ..."): each is over 50 characters
TWO_GROUPS = ("tell me about the sea and the ships that sail on it every day. "
              "And then tell me much more about the old harbour and its lighthouse please.")


def adapter(agent: LocalAgent, fmt: str | None = None, **kw: object) -> VoiceAgentAdapter:
    query = {"format": fmt} if fmt else {}
    kw.setdefault("headers", AUTH)
    return VoiceAgentAdapter(DialectConfig(url=ws_url(agent, PATH, **query), **kw))  # type: ignore[arg-type]


async def test_no_auth_on_an_open_server(open_agent: LocalAgent) -> None:
    async with raw_connect(ws_url(open_agent, PATH)) as ws:
        await ws.send(json.dumps({"type": "transcript", "text": "hi"}))
        assert (await until(ws, "response_complete"))["text"] == "You said: hi."


async def test_no_auth_by_default_even_when_the_server_has_a_key(agent: LocalAgent) -> None:
    assert agent.config.api_key  # the SDK has no auth: the key is not asked for
    async with raw_connect(ws_url(agent, PATH)) as ws:
        await ws.send(json.dumps({"type": "transcript", "text": "hi"}))
        assert (await until(ws, "response_complete"))["text"] == "You said: hi."


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}])
async def test_voiceagent_auth_requires_the_bearer_key(headers: dict[str, str]) -> None:
    async with LocalAgent(make_config(voiceagent_auth=True)) as server:
        with pytest.raises(InvalidStatus) as info:
            async with raw_connect(ws_url(server, PATH), headers):
                pass
        assert info.value.response.status_code == 401
        async with raw_connect(ws_url(server, PATH), AUTH) as ws:
            await ws.send(json.dumps({"type": "transcript", "text": "hi"}))
            assert (await until(ws, "response_complete"))["text"] == "You said: hi."


async def test_bad_format_refused(agent: LocalAgent) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(ws_url(agent, PATH, format="flac"), AUTH):
            pass
    assert info.value.response.status_code == 400


@pytest.mark.parametrize("fmt", ["mp3", "opus", "wav"])
async def test_text_turn_through_the_adapter(agent: LocalAgent, fmt: str) -> None:
    client = await open_adapter(adapter(agent, fmt))
    async with client.ws:
        assert isinstance(client.events[0], SessionStarted)
        await client.send(SendText("good morning to you"))
        events = await client.until(lambda e: isinstance(e, AgentStoppedTalking))
    kinds = [type(e) for e in events]
    assert TextDelta in kinds and AgentStartedTalking in kinds
    chunks = [e for e in events if isinstance(e, AgentAudio)]
    assert chunks and [c.chunk_id for c in chunks] == list(range(len(chunks)))
    assert all(c.format.encoding == fmt for c in chunks)
    total = 0.0
    for c in chunks:
        pcm, rate = codecs.decode(c.data, c.format.encoding)
        total += len(pcm) / 2 / rate
    assert total > 0.5
    assert events[-1] == AgentStoppedTalking(timestamp=STREAM_END, turn=1)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "You said: good morning to you."


async def test_response_complete(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    async with client.ws:
        await client.send(SendText("hello"))
        events = await client.until(lambda e: isinstance(e, TurnComplete))
    assert TranscriptFinal(role="agent", text="You said: hello.", turn=1, as_heard=False) in events


async def test_audio_turn_as_a_wav_clip(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent, sample_rate=16000))
    async with client.ws:
        pcm = tone(600, 16000) + silence(200, 16000)
        for offset in range(0, len(pcm), 640):
            await client.send(SendAudio(pcm[offset:offset + 640]))
        await client.send(CommitAudio())
        sent = json.loads(client.sent[-1])
        assert sent["type"] == "audio" and sent["format"] == "wav"
        events = await client.until(lambda e: isinstance(e, AgentStoppedTalking), timeout=15)
    assert any(isinstance(e, AgentAudio) for e in events)


async def test_barge_in_with_interrupt(agent: LocalAgent) -> None:
    synth = GatedSynth(allow=1)
    assert agent.voice is not None
    agent.voice.synth = synth
    client = await open_adapter(adapter(agent))
    try:
        async with client.ws:
            await client.send(SendText(TWO_GROUPS))
            events = await client.until(lambda e: isinstance(e, AgentAudio))
            assert TurnComplete(text=f"You said: {TWO_GROUPS}", turn=1) in events  # the text was done first
            await client.send(Interrupt("user_speaking"))
            events = await client.until(lambda e: isinstance(e, AgentStoppedTalking))
            assert Interruption(reason="user_speaking", turn=1) in events
            synth.release()
            await client.send(SendText("again"))
            events = await client.until(lambda e: isinstance(e, AgentStoppedTalking))
    finally:
        synth.release()
    assert TurnComplete(text="You said: again.", turn=2) in events
    assert [e.chunk_id for e in events if isinstance(e, AgentAudio)] == [2]  # chunk 1 was dropped


async def test_new_text_interrupts_the_reply(agent: LocalAgent) -> None:
    synth = GatedSynth(allow=0)
    assert agent.voice is not None
    agent.voice.synth = synth
    try:
        async with raw_connect(ws_url(agent, PATH), AUTH) as ws:
            await ws.send(json.dumps({"type": "transcript", "text": TWO_GROUPS}))
            await until(ws, "speech_stream_start")
            await until(ws, "response_complete")
            await ws.send(json.dumps({"type": "transcript", "text": "stop"}))
            seen: list[dict[str, object]] = []
            await until(ws, "speech_stream_end", seen=seen)
            synth.release()
            complete = await until(ws, "response_complete", seen=seen)
    finally:
        synth.release()
    assert [m["type"] for m in seen][:1] == ["speech_interrupted"]
    assert seen[0]["reason"] == "user_speaking"
    assert complete["text"] == "You said: stop."


@pytest.mark.parametrize(("frame", "kind"), [
    ("not json", "error"), (json.dumps({"type": "transcript"}), "error"),
    (json.dumps({"type": "audio", "data": "%%%"}), "transcription_error"),
    (json.dumps({"type": "audio", "data": base64.b64encode(b"definitely not audio").decode(), "format": "mp3"}),
     "transcription_error"),
])
async def test_errors_keep_the_socket_open(agent: LocalAgent, frame: str, kind: str) -> None:
    async with raw_connect(ws_url(agent, PATH), AUTH) as ws:
        await ws.send(frame)
        error = await recv_json(ws)
        assert error["type"] == kind and error["error"]
        await ws.send(json.dumps({"type": "transcript", "text": "still there"}))
        assert (await until(ws, "response_complete"))["text"] == "You said: still there."


async def test_errors_through_the_adapter(agent: LocalAgent) -> None:
    client = await open_adapter(adapter(agent))
    async with client.ws:
        await client.ws.send("garbage")
        error = (await client.until(lambda e: isinstance(e, ErrorEvent)))[-1]
    assert isinstance(error, ErrorEvent) and error.code == "error"


async def test_websocket_keepalive(agent: LocalAgent) -> None:
    async with raw_connect(ws_url(agent, PATH), AUTH) as ws:
        await (await ws.ping())
