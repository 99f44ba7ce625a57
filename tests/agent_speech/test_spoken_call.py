"""A whole spoken call through the local server (Atoms protocol): hibari asks, the agent hears
it with PocketSphinx, the rules brain answers and hibari's answer comes back as audio."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.agent.speech.stt import PocketSphinxRecognizer
from voicecli.agent.speech.tts import HibariSynthesizer

from .conftest import frames, to_16k

pytestmark = pytest.mark.slow


async def call(url: str, question: bytes) -> list[dict[str, Any]]:
    """Send the question and one second of silence, then collect messages until the reply ends."""
    from websockets.asyncio.client import connect

    received: list[dict[str, Any]] = []
    async with connect(url + "/atoms/v1/agent/connect?agent_id=test&sample_rate=16000", max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"
        for frame in frames(question + bytes(32000)):
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(frame).decode()}))
            await asyncio.sleep(0.005)  # faster than real time: the VAD counts audio, not wall time
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 15))
            received.append(message)
            if message["type"] == "agent_stop_talking":
                return received


async def test_a_spoken_question_gets_a_spoken_answer(
    synth: HibariSynthesizer, recognizer: PocketSphinxRecognizer
) -> None:
    agent = LocalAgent(AgentConfig(brain="rules", greeting=""))
    await agent.start()
    try:
        question = to_16k(synth.synthesize("What is twelve plus seven?"))
        messages = await call(agent.url.replace("http", "ws", 1), question)
    finally:
        await agent.stop()
    finals = {m["role"]: m["text"] for m in messages if m["type"] == "transcript"}
    assert finals["user"] == "what is twelve plus seven"
    said = [m["text"] for m in messages if m["type"] == "transcript.delta" and m["role"] == "assistant"]
    assert said and said[-1] == "12 plus 7 is 19."
    audio = b"".join(base64.b64decode(m["audio"]) for m in messages if m["type"] == "output_audio.delta")
    assert len(audio) / 2 / 16000 > 1.0  # real speech, not a beep
    recognizer.start()
    for frame in frames(audio):
        recognizer.feed(frame)
    assert "nineteen" in recognizer.finish()  # the answer, "12 plus 7 is 19.", as heard back
