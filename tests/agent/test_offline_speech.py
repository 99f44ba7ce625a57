"""The local agent with its offline voice and ears (hibari + PocketSphinx), when installed."""

from __future__ import annotations

import json

import hibari  # noqa: F401  - the local extra is part of `make setup`: missing, these tests fail
import pocketsphinx  # noqa: F401

from tests.agent.conftest import append, atoms_connect, make_config, recv_json, silence, until
from voicecli.agent.server import LocalAgent


async def test_spoken_turn_is_recognised_and_answered_in_speech() -> None:
    from voicecli.agent.speech.tts import HibariSynthesizer
    from voicecli.audio.resample import resample_pcm16

    synth = HibariSynthesizer()
    rate = 16000
    speech = resample_pcm16(synth.synthesize("Hello there."), synth.rate, rate)
    async with LocalAgent(make_config(speech=True)) as server:
        assert server.voice is not None and server.voice.synth.name == "hibari"
        async with atoms_connect(server, sample_rate=rate) as ws:
            await recv_json(ws)
            audio = silence(200, rate) + speech + silence(900, rate)
            step = rate * 2 * 40 // 1000
            for offset in range(0, len(audio), step):  # faster than real time: the VAD counts samples
                await ws.send(append(audio[offset:offset + step]))
            seen: list[dict] = []
            heard = await until(ws, "transcript", seen=seen, timeout=15)
            await until(ws, "agent_start_talking")
            await ws.send(json.dumps({"type": "input_text.send", "text": "Good."}))
            await until(ws, "interruption")
    assert heard["role"] == "user" and "hello" in heard["text"].lower()
    partials = [m for m in seen if m["type"] == "transcript.delta" and m["role"] == "user"]
    assert partials, "no streaming user transcript"
