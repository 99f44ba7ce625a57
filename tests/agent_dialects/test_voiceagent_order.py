"""The VoiceAgent dialect sends what the SDK sends, in the SDK's order (PROTOCOLS.md D):
a normal turn, turns cut while their speech or their text was still going, the
greeting rule and the older order kept as ``variant:legacy-order``."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection

from tests.agent.gates import GatedSynth, StepBrain
from tests.agent_dialects.conftest import make_config, raw_connect, until, ws_url
from voicecli.agent.dialects._voiceagent_groups import SpeechGroups, extract_groups
from voicecli.agent.server import LocalAgent
from voicecli.audio import codecs

PATH = "/voiceagent"
FIRST = "The first part of this answer is a sentence long enough to be a group. "
REST = "And here the answer goes on with a second sentence of its own."
TWO_GROUPS = ("tell me about the sea and the ships that sail on it every day. "
              "And then tell me much more about the old harbour and its lighthouse please.")


@pytest.fixture
async def open_agent() -> AsyncIterator[LocalAgent]:
    async with LocalAgent(make_config(api_key=None)) as server:
        yield server


async def say(ws: ClientConnection, text: str) -> None:
    await ws.send(json.dumps({"type": "transcript", "text": text}))


def kinds(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


async def read_until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    """Every message up to and including the first of type ``kind``."""
    seen: list[dict[str, Any]] = []
    last = await until(ws, kind, seen=seen)
    return [*seen, last]


async def test_normal_turn_order_and_unpaced_audio(open_agent: LocalAgent) -> None:
    async with raw_connect(ws_url(open_agent, PATH, format="wav")) as ws:
        await say(ws, TWO_GROUPS)
        turn = await read_until(ws, "speech_stream_end")
    assert kinds(turn) == [
        "stream_start", "step_start", "text_start", "speech_stream_start", "text_delta", "text_end",
        "step_finish", "stream_finish", "response_complete", "audio_chunk", "audio_chunk", "speech_stream_end"]
    text = f"You said: {TWO_GROUPS}"
    assert turn[4]["text"] == text and turn[8]["text"] == text
    assert turn[8]["toolCalls"] == [] and turn[8]["toolResults"] == []
    chunks = [m for m in turn if m["type"] == "audio_chunk"]
    first, second = text.split(". ", 1)
    assert [c["chunkId"] for c in chunks] == [0, 1]
    assert [c["text"] for c in chunks] == [first + ".", second]
    seconds = 0.0
    for chunk in chunks:
        pcm, rate = codecs.decode(base64.b64decode(chunk["data"]), "wav")
        seconds += len(pcm) / 2 / rate
    wall = chunks[-1]["_t"] - turn[0]["_t"]
    assert seconds > 4.0 and wall < seconds / 4, (wall, seconds)  # as fast as it is made


async def test_chunk_ids_grow_over_the_connection(open_agent: LocalAgent) -> None:
    async with raw_connect(ws_url(open_agent, PATH)) as ws:
        ids: list[int] = []
        for text in ("one", TWO_GROUPS, "three"):
            await say(ws, text)
            ids += [m["chunkId"] for m in await read_until(ws, "speech_stream_end") if m["type"] == "audio_chunk"]
    assert ids == [0, 1, 2, 3]


async def test_cut_while_text_streams_and_speech_is_queued(open_agent: LocalAgent) -> None:
    go = asyncio.Event()
    synth = GatedSynth(allow=0)
    assert open_agent.voice is not None
    open_agent.voice.synth = synth
    open_agent.voice.make_brain = lambda: StepBrain(FIRST, REST, go)
    try:
        async with raw_connect(ws_url(open_agent, PATH)) as ws:
            await say(ws, "go on")
            start = await read_until(ws, "text_delta")
            await ws.send(json.dumps({"type": "interrupt", "reason": "button_click"}))
            cut = await read_until(ws, "speech_stream_end")
            go.set()
            synth.release()
            await say(ws, "again")
            after = await read_until(ws, "speech_stream_end")
    finally:
        synth.release()
    assert kinds(start) == ["stream_start", "step_start", "text_start", "speech_stream_start", "text_delta"]
    assert cut == [
        {"type": "speech_interrupted", "reason": "button_click", "_t": cut[0]["_t"]},
        {"type": "stream_abort", "reason": "button_click", "_t": cut[1]["_t"]},
        {"type": "response_complete", "text": FIRST, "toolCalls": [], "toolResults": [], "_t": cut[2]["_t"]},
        {"type": "speech_stream_end", "_t": cut[3]["_t"]}]
    chunks = [m for m in after if m["type"] == "audio_chunk"]
    assert chunks[0]["chunkId"] == 1  # group 0 was queued, then dropped: its id is never sent
    assert [m for m in after if m["type"] == "response_complete"][0]["text"] == FIRST + REST


async def test_cut_while_text_streams_after_speech_ran_dry(open_agent: LocalAgent) -> None:
    go = asyncio.Event()
    assert open_agent.voice is not None
    open_agent.voice.make_brain = lambda: StepBrain(FIRST, REST, go)
    async with raw_connect(ws_url(open_agent, PATH)) as ws:
        await say(ws, "go on")
        start = await read_until(ws, "speech_stream_end")
        await say(ws, "stop")  # new input cuts the reply: reason user_speaking
        cut = await read_until(ws, "response_complete")
        go.set()
    assert kinds(start)[-2:] == ["audio_chunk", "speech_stream_end"]
    assert "text_end" not in kinds(start)  # the text is still streaming
    assert kinds(cut) == ["stream_abort", "response_complete"]  # no speech to interrupt
    assert cut[0]["reason"] == "user_speaking" and cut[1]["text"] == FIRST


async def test_cut_after_the_text_while_speech_is_queued(open_agent: LocalAgent) -> None:
    synth = GatedSynth(allow=1)
    assert open_agent.voice is not None
    open_agent.voice.synth = synth
    try:
        async with raw_connect(ws_url(open_agent, PATH)) as ws:
            await say(ws, TWO_GROUPS)
            turn = await read_until(ws, "audio_chunk")
            await ws.send(json.dumps({"type": "interrupt"}))
            cut = await read_until(ws, "speech_stream_end")
    finally:
        synth.release()
    assert "response_complete" in kinds(turn)
    assert kinds(cut) == ["speech_interrupted", "speech_stream_end"]
    assert cut[0]["reason"] == "client_request"


async def test_no_greeting_unless_the_server_has_one() -> None:
    async with LocalAgent(make_config(api_key=None, greeting=None)) as server:
        async with raw_connect(ws_url(server, PATH)) as ws:
            await say(ws, "first")
            first = await until(ws, "response_complete")
    assert first["text"] == "You said: first."  # the brain's greeting is not spoken
    async with LocalAgent(make_config(api_key=None, greeting="Welcome aboard.")) as server:
        async with raw_connect(ws_url(server, PATH)) as ws:
            first = await until(ws, "response_complete")
    assert first["text"] == "Welcome aboard."


async def test_legacy_order_variant() -> None:
    async with LocalAgent(make_config(api_key=None, speed=1.0)) as server, \
            raw_connect(ws_url(server, PATH, fault="variant:legacy-order")) as ws:
        await say(ws, "good morning to you")
        started = time.monotonic()
        turn = await read_until(ws, "response_complete")
    order = kinds(turn)
    assert order[:3] == ["stream_start", "text_start", "text_delta"]
    assert order[-4:] == ["audio_chunk", "speech_stream_end", "stream_finish", "response_complete"]
    assert "step_start" not in order
    assert turn[-1]["_t"] - started > 1.0  # paced in real time


def test_groups_follow_the_sdk() -> None:
    # a short first sentence waits and becomes the start of the next group
    assert extract_groups("Hi. ") == ([], "Hi. ")
    text = "Hi. This sentence makes the group long enough to be spoken. Ok. Rest"
    assert extract_groups(text) == (
        ["Hi. This sentence makes the group long enough to be spoken. Ok."], "Rest")
    # over 200 characters with no sentence end: cut after a clause at or beyond 50
    words = "word " * 12 + "clause, " + "more " * 40
    groups, rest = extract_groups(words)
    assert groups == [("word " * 12 + "clause,").strip()] and rest == "more " * 40
    chunker = SpeechGroups()
    assert chunker.feed("A short one. ") == []
    assert chunker.flush() == ["A short one."]


@given(st.lists(st.text(alphabet="ab .!?,;:\n", max_size=30), max_size=20))
def test_groups_keep_every_word_in_order(deltas: list[str]) -> None:
    chunker = SpeechGroups()
    groups = [g for d in deltas for g in chunker.feed(d)] + chunker.flush()
    # every character but white space, in order (a sentence end that a delta ends on counts,
    # as in the SDK, so a word may be split between two groups)
    assert "".join("".join(groups).split()) == "".join("".join(deltas).split())
    assert all(g == g.strip() and g for g in groups)
