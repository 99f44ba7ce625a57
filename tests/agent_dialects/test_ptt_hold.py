"""Push-to-talk over each wire, real client adapters against the local agent: the held
turn survives a long pause and the agent answers once, after the release.

- Atoms: ``session.update`` holds, ``input_audio_buffer.commit`` releases;
- ElevenLabs: ``user_activity`` with every 200 ms of held audio; the release stops it;
- VoiceAgent: nothing is sent until the release, which sends the whole clip;
- token-pcm and PerfVoice: nothing on the wire can say it (their VAD decides).
"""

from __future__ import annotations

import json

import pytest

from tests.agent_dialects.conftest import AdapterClient, open_adapter, silence, tone
from tests.protocol import schemas
from voicecli.agent.server import LocalAgent
from voicecli.agent.tone import tone_pattern
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import Adapter, DialectConfig
from voicecli.protocol.commands import CommitAudio, HoldTurn, SendAudio
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import AgentAudio, Event, SessionStarted, TranscriptFinal
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.token_pcm import TokenPcmAdapter
from voicecli.protocol.voiceagent import VoiceAgentAdapter
from voicecli.secrets import Secret

from .conftest import AGENT_ID, API_KEY

RATE = 16000
FRAME = RATE * 2 * 20 // 1000
SAID = tone(400, RATE) + silence(1500, RATE) + tone(400, RATE)  # "what is" … "two plus two"


def make(dialect: str, agent: LocalAgent) -> Adapter:
    key = Secret(API_KEY)
    if dialect == "atoms":
        return AtomsAdapter(DialectConfig(url=agent.url, agent_id=AGENT_ID, api_key=key, sample_rate=RATE))
    if dialect == "elevenlabs":
        return ElevenLabsAdapter(DialectConfig(url=agent.url, agent_id=AGENT_ID, api_key=key))
    return VoiceAgentAdapter(DialectConfig(url=agent.url + "/voiceagent", sample_rate=RATE,
                                           headers={"Authorization": f"Bearer {API_KEY}"}))


async def send(client: AdapterClient, pcm: bytes) -> None:
    for offset in range(0, len(pcm), FRAME):
        await client.send(SendAudio(pcm[offset:offset + FRAME]))


def agent_events(events: list[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, AgentAudio)
            or (isinstance(e, TranscriptFinal) and e.role == "agent")]


def audio_s(events: list[Event]) -> float:
    return sum(len(e.data) / 2 / e.format.sample_rate for e in events
               if isinstance(e, AgentAudio) and e.format.encoding == "pcm16")


@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs"])
async def test_a_held_turn_is_answered_once_after_the_release(agent: LocalAgent, dialect: str) -> None:
    client = await open_adapter(make(dialect, agent))
    async with client.ws:
        await client.until(lambda e: isinstance(e, SessionStarted))
        await client.send(HoldTurn())
        await send(client, silence(100, RATE) + SAID + silence(900, RATE))
        # a 1.5 s pause, more than the 600 ms hangover: nothing is said while the turn is held
        assert agent_events(await client.read_for(0.5)) == []
        await client.send(CommitAudio())
        await send(client, silence(500, RATE))  # the mic goes on streaming (silence)
        reply_only = len(tone_pattern("I heard you.", RATE)) / 2 / RATE
        events = await client.until(lambda e: audio_s(client.events) >= reply_only + 2.2, timeout=15)
    turns = {e.turn for e in events if isinstance(e, AgentAudio)}
    assert len(turns) == 1, "one reply, with both words and the pause played back"
    if dialect == "elevenlabs":
        beats = [f for f in client.sent if isinstance(f, str) and json.loads(f).get("type") == "user_activity"]
        assert len(beats) >= 3000 // 200 - 1  # one at the press, then one per 200 ms held
        for frame in beats:
            schemas.validate("elevenlabs", frame)
    else:
        kinds = [json.loads(f)["type"] for f in client.sent if isinstance(f, str)]
        assert kinds.count("session.update") == 1 and kinds[-1] != "session.update"
        assert kinds.index("session.update") < kinds.index("input_audio_buffer.commit")


async def test_voiceagent_sends_the_held_clip_on_release(agent: LocalAgent) -> None:
    client = await open_adapter(make("voiceagent", agent))
    async with client.ws:
        await client.send(HoldTurn())
        await send(client, SAID + silence(900, RATE))
        assert client.sent == []
        await client.send(CommitAudio())
        (clip,) = [json.loads(f) for f in client.sent]
        events = await client.until(lambda e: isinstance(e, TranscriptFinal) and e.role == "agent", timeout=15)
    assert clip["type"] == "audio" and clip["format"] == "wav"
    assert [e for e in events if isinstance(e, TranscriptFinal) and e.role == "agent"][0].text == "I heard you."


@pytest.mark.parametrize("adapter", [TokenPcmAdapter, PerfVoiceAdapter])
def test_no_hold_message_where_the_wire_has_none(adapter: type[Adapter]) -> None:
    a = adapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a", api_key=Secret("k")))
    assert a.encode(HoldTurn()) == [] and a.encode(CommitAudio()) == []
    assert a.capabilities.turn_hold == "none"
