"""The Atoms dialect against the vendor's spec: every server message of a webcall and of
a chat session validates against the spec's message schemas, and turns come in the
spec's order (normal, interrupted, chat)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.agent.conftest import atoms_connect, make_config, recv_json, until
from tests.agent.gates import StepBrain
from tests.protocol.schemas import validate
from voicecli.agent.interfaces import Frame
from voicecli.agent.server import LocalAgent
from voicecli.agent.tone import tone_pattern

LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"


async def typed(ws: ClientConnection, text: str) -> None:
    await ws.send(json.dumps({"type": "input_text.send", "text": text}))


def collapse(kinds: list[str]) -> list[str]:
    """Runs of the same message type as one entry."""
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


async def test_every_server_message_matches_the_spec() -> None:
    frames: list[tuple[str, Frame]] = []
    config = make_config(greeting="Hello there.")
    async with LocalAgent(config, tap=lambda dialect, side, frame: frames.append((side, frame))) as agent:
        async with atoms_connect(agent, sample_rate=16000) as ws:  # webcall
            await until(ws, "agent_stop_talking")  # the greeting
            await typed(ws, LONG)
            await until(ws, "output_audio.delta")
            await typed(ws, "stop")  # cuts the reply: interruption
            await until(ws, "interruption")
            await until(ws, "agent_stop_talking")
            await until(ws, "agent_stop_talking")
            await ws.send(json.dumps({"type": "no.such.event"}))
            await until(ws, "error")
            await ws.send(json.dumps({"type": "session.close"}))
            await until(ws, "session.closed")
        async with atoms_connect(agent, mode="chat") as ws:
            await typed(ws, "hello")
            await until(ws, "transcript")
            await ws.send(json.dumps({"type": "session.close"}))
            await until(ws, "session.closed")
    server = [frame for side, frame in frames if side == "server"]
    kinds = {validate("atoms", frame, side="server", strict=True)["type"] for frame in server}
    assert kinds == {"session.created", "agent_start_talking", "output_audio.delta", "transcript.delta",
                     "transcript", "agent_stop_talking", "interruption", "error", "session.closed"}


async def test_webcall_turn_order() -> None:
    async with LocalAgent(make_config()) as agent, atoms_connect(agent, sample_rate=16000) as ws:
        assert (await recv_json(ws))["type"] == "session.created"
        await typed(ws, "good morning")
        seen: list[dict[str, Any]] = []
        last = await until(ws, "agent_stop_talking", seen=seen)
    kinds = [m["type"] for m in [*seen, last]]
    assert kinds[0] == "agent_start_talking" and kinds[1] == "output_audio.delta"
    assert kinds[-2:] == ["transcript", "agent_stop_talking"]
    assert set(kinds[1:-2]) == {"output_audio.delta", "transcript.delta"}
    assert seen[-1] == {"type": "transcript", "role": "assistant", "text": "You said: good morning.",
                        "_t": seen[-1]["_t"]}


async def test_webcall_cut_turn_order() -> None:
    async with LocalAgent(make_config()) as agent, atoms_connect(agent, sample_rate=16000) as ws:
        await recv_json(ws)
        await typed(ws, LONG)
        await until(ws, "transcript.delta")
        await typed(ws, "stop")
        seen: list[dict[str, Any]] = []
        await until(ws, "agent_start_talking", seen=seen)  # the next reply
    after_cut = [m for m in seen[[m["type"] for m in seen].index("interruption"):]]
    assert [m["type"] for m in after_cut] == ["interruption", "transcript", "agent_stop_talking"]
    assert after_cut[0] == {"type": "interruption", "_t": after_cut[0]["_t"]}  # no fields
    heard = after_cut[1]["text"]
    assert heard and f"You said: {LONG}.".startswith(heard) and heard != f"You said: {LONG}."


async def test_chat_replies_are_whole_and_unpaced() -> None:
    async with LocalAgent(make_config()) as agent, atoms_connect(agent, mode="chat") as ws:
        assert (await recv_json(ws))["type"] == "session.created"
        sent = time.monotonic()
        await typed(ws, LONG)
        first = await recv_json(ws)
        elapsed = time.monotonic() - sent
    assert first == {"type": "transcript", "role": "assistant", "text": f"You said: {LONG}."}
    spoken = len(tone_pattern(f"You said: {LONG}.")) / 2 / 24000
    assert spoken > 3.0 and elapsed < spoken / 5, (elapsed, spoken)


async def test_chat_message_while_a_reply_is_written_is_answered_next() -> None:
    go = asyncio.Event()
    brain = StepBrain("The first part. ", "The rest.", go)
    second_in = asyncio.Event()  # the server has handled the second message

    def tap(dialect: str, side: str, frame: Frame) -> None:
        if side == "client" and isinstance(frame, str) and '"two"' in frame:
            second_in.set()

    async with LocalAgent(make_config(), tap=tap) as agent:
        assert agent.voice is not None
        agent.voice.make_brain = lambda: brain
        async with atoms_connect(agent, mode="chat") as ws:
            await recv_json(ws)
            await typed(ws, "one")
            await brain.started.wait()
            await typed(ws, "two")  # the first reply is half written
            await second_in.wait()
            go.set()
            replies = [await recv_json(ws), await recv_json(ws)]
    whole = {"type": "transcript", "role": "assistant", "text": "The first part. The rest."}
    assert replies == [whole, whole]  # two complete replies, the first not cut
