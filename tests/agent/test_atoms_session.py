"""The Atoms dialect end to end: a real server on loopback, a real websockets client."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.agent.conftest import (
    append,
    atoms_connect,
    audio_seconds,
    recv_json,
    silence,
    stream,
    tone,
    until,
)
from tests.support.waiting import patience
from voicecli.agent.server import LocalAgent


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
async def test_session_created_echoes_the_requested_rate(agent: LocalAgent, rate: int) -> None:
    async with atoms_connect(agent, sample_rate=rate) as ws:
        created = await recv_json(ws)
    assert created["type"] == "session.created"
    assert created["sample_rate"] == rate
    assert created["channels"] == 1
    assert created["session_id"] and created["call_id"].startswith("CALL-")


async def test_default_rate_is_24000_and_query_token_works(agent: LocalAgent) -> None:
    from tests.agent.conftest import API_KEY

    async with atoms_connect(agent, key=API_KEY, header=False) as ws:
        created = await recv_json(ws)
    assert created["sample_rate"] == 24000


async def test_text_turn_is_paced_in_real_time(paced_agent: LocalAgent) -> None:
    agent = paced_agent
    rate = 16000
    async with atoms_connect(agent, sample_rate=rate) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "input_text.send", "text": "good morning"}))
        start = await until(ws, "agent_start_talking")
        assert "T" in start["timestamp"]
        seen: list[dict] = []
        final = await until(ws, "transcript", seen=seen)
        stop = await until(ws, "agent_stop_talking")
    deltas = [m for m in seen if m["type"] == "output_audio.delta"]
    assert deltas, "no audio"
    sizes = [len(base64.b64decode(m["audio"])) for m in deltas]
    assert max(sizes) <= rate * 2 * 40 // 1000
    assert all(s >= rate * 2 * 20 // 1000 for s in sizes[:-1])
    duration = audio_seconds(seen, rate)
    wall = deltas[-1]["_t"] - deltas[0]["_t"]
    last_chunk = sizes[-1] / 2 / rate
    assert duration > 1.0
    assert wall >= (duration - last_chunk) * 0.9, (wall, duration)
    assert wall <= duration + 0.25, (wall, duration)
    assert final["role"] == "assistant" and final["text"] == "You said: good morning."
    texts = [m["text"] for m in seen if m["type"] == "transcript.delta"]
    assert texts[-1] == final["text"]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False)), "deltas are cumulative"
    assert len(texts) >= 3
    assert stop["_t"] >= final["_t"]


async def test_audio_turn_ends_after_600_ms_of_silence(agent: LocalAgent) -> None:
    rate = 16000
    async with atoms_connect(agent, sample_rate=rate) as ws:
        await recv_json(ws)
        sender = asyncio.create_task(stream(ws, tone(400, rate) + silence(1500, rate), rate))
        started = await until(ws, "agent_start_talking", timeout=5)
        seen: list[dict] = []
        final = await until(ws, "transcript", seen=seen)
        await sender
    speech_end = sender.result() + 0.4
    latency = started["_t"] - speech_end
    # not before the 600 ms of silence; soon after it (the margin stretched on a loaded machine:
    # VOICECLI_TEST_PATIENCE=1 checks it at 0.4 s)
    assert 0.5 <= latency <= 0.6 + patience(0.4), latency
    assert final["text"] == "I heard you."
    from voicecli.agent.tone import tone_pattern

    reply_only = len(tone_pattern("I heard you.", rate)) / 2 / rate
    assert audio_seconds(seen, rate) >= reply_only + 0.35, "the user's audio is played back"


async def test_commit_ends_the_turn_at_once(agent: LocalAgent) -> None:
    rate = 16000
    async with atoms_connect(agent, sample_rate=rate) as ws:
        await recv_json(ws)
        await stream(ws, tone(300, rate), rate)
        sent = time.monotonic()
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        started = await until(ws, "agent_start_talking", timeout=5)
    assert started["_t"] - sent < 0.3


async def test_barge_in_interrupts_within_200_ms(paced_agent: LocalAgent) -> None:
    agent = paced_agent
    rate = 16000
    reply = "one two three four five six seven eight nine ten eleven twelve"
    async with atoms_connect(agent, sample_rate=rate) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "input_text.send", "text": reply}))
        await until(ws, "agent_start_talking")
        seen: list[dict] = []
        while audio_seconds(seen, rate) < 0.8:
            seen.append(await recv_json(ws))
        sender = asyncio.create_task(stream(ws, tone(500, rate) + silence(900, rate), rate))
        interruption = await until(ws, "interruption", seen=seen)
        onset = sender.result() if sender.done() else None
        after: list[dict] = []
        final = await until(ws, "transcript", seen=after)
        await until(ws, "agent_start_talking", seen=after, timeout=5)
        await sender
    onset = onset or sender.result()
    assert interruption["_t"] - onset < 0.2
    assert not [m for m in after if m["type"] == "output_audio.delta"], "audio after interruption"
    heard = [m["text"] for m in seen if m["type"] == "transcript.delta"][-1]
    assert final["role"] == "assistant" and final["text"] == heard
    full = f"You said: {reply}."
    assert full.startswith(final["text"]) and len(final["text"]) < len(full)


async def test_text_while_talking_interrupts(agent: LocalAgent) -> None:
    async with atoms_connect(agent) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "input_text.send", "text": "a long reply with many words in it"}))
        await until(ws, "output_audio.delta")
        await ws.send(json.dumps({"type": "input_text.send", "text": "stop"}))
        await until(ws, "interruption", timeout=1)
        seen: list[dict] = []
        await until(ws, "agent_start_talking", seen=seen)
        final = await until(ws, "transcript")
    assert final["text"] == "You said: stop."


async def test_chat_mode_has_no_audio(agent: LocalAgent) -> None:
    async with atoms_connect(agent, mode="chat") as ws:
        await recv_json(ws)
        await ws.send(append(tone(100, 24000)))
        await ws.send(json.dumps({"type": "input_text.send", "text": "hello"}))
        seen: list[dict] = []
        final = await until(ws, "transcript", seen=seen)
    assert final == {**final, "role": "assistant", "text": "You said: hello."}
    kinds = {m["type"] for m in seen}
    assert not kinds & {"output_audio.delta", "agent_start_talking", "agent_stop_talking"}


async def test_session_close_answers_session_closed_then_1000(agent: LocalAgent) -> None:
    async with atoms_connect(agent) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "session.update"}))
        await ws.send(json.dumps({"type": "session.close"}))
        closed = await until(ws, "session.closed")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 3)
    assert closed["reason"] == "client_requested"
    assert ws.close_code == 1000


async def test_invalid_messages_get_invalid_event_and_the_session_goes_on(agent: LocalAgent) -> None:
    async with atoms_connect(agent) as ws:
        await recv_json(ws)
        await ws.send("not json")
        first = await until(ws, "error")
        await ws.send(json.dumps({"type": "input_audio_buffer.append"}))
        second = await until(ws, "error")
        await ws.send(json.dumps({"type": "no.such.event"}))
        third = await until(ws, "error")
        await ws.send(json.dumps({"type": "input_text.send", "text": "ok"}).encode())  # JSON in a binary frame
        final = await until(ws, "transcript")
    assert {first["code"], second["code"], third["code"]} == {"invalid_event"}
    assert second["message"] == "audio is required"
    assert final["text"] == "You said: ok."


async def test_fragmented_messages_are_assembled_and_pings_answered(agent: LocalAgent) -> None:
    async with atoms_connect(agent) as ws:
        await recv_json(ws)
        message = json.dumps({"type": "input_text.send", "text": "fragments"})
        await ws.send(iter([message[:10], message[10:25], message[25:]]))
        pong = await ws.ping()
        await asyncio.wait_for(pong, 2)
        final = await until(ws, "transcript")
    assert final["text"] == "You said: fragments."


async def test_greeting_is_spoken_on_connect() -> None:
    from tests.agent.conftest import make_config

    async with LocalAgent(make_config(greeting="Welcome back.")) as server:
        async with atoms_connect(server) as ws:
            assert (await recv_json(ws))["type"] == "session.created"
            assert (await recv_json(ws))["type"] == "agent_start_talking"
            final = await until(ws, "transcript")
    assert final["text"] == "Welcome back."


@pytest.mark.parametrize("rate", [8000, 48000])
async def test_audio_is_resampled_to_the_session_rate(rate: int) -> None:
    from tests.agent.conftest import make_config
    from voicecli.agent.tone import tone_pattern

    async with LocalAgent(make_config(chunk_ms=20)) as server:
        async with atoms_connect(server, sample_rate=rate) as ws:
            await recv_json(ws)
            await ws.send(json.dumps({"type": "input_text.send", "text": "hi"}))
            seen: list[dict] = []
            await until(ws, "agent_stop_talking", seen=seen)
    expected = len(tone_pattern("You said: hi.", 24000)) / 2 / 24000
    assert abs(audio_seconds(seen, rate) - expected) < 0.01
    sizes = {len(base64.b64decode(m["audio"])) for m in seen if m["type"] == "output_audio.delta"}
    assert max(sizes) == rate * 2 * 20 // 1000
