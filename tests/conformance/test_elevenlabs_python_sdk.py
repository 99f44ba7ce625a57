"""Conformance: the official ``elevenlabs`` python SDK holds whole conversations with the
local agent on loopback (text-only, through an audio interface, public and private agents,
client tools, contextual updates). Every message either side sent validates against the
vendor AsyncAPI spec (``shared/specs/elevenlabs-agent.asyncapi.yaml``)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from elevenlabs.client import ElevenLabs
from elevenlabs.conversational_ai.conversation import (
    ClientTools,
    Conversation,
    ConversationInitiationData,
    DisconnectionDetails,
)

from tests.conformance.el_sdk import Seen, Tap, WavAudio, tone, write_wav
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.audio.resample import resample_pcm16

API_KEY = "sk_conformance_key"
PRIVATE = "agent-private"
PUBLIC = "agent-public"


def config(**overrides: Any) -> AgentConfig:
    """The agent for a test; its speech on a virtual clock (no waiting) unless ``speed`` is given."""
    options: dict[str, Any] = dict(api_key=API_KEY, agent_ids={PRIVATE}, public_agents=(PUBLIC,), brain="rules",
                                   speech=False, greeting="", speed=math.inf)
    options.update(overrides)
    return AgentConfig(**options)


@pytest.fixture
def tap() -> Tap:
    return Tap()


@pytest.fixture
async def agent(tap: Tap) -> AsyncIterator[LocalAgent]:
    async with LocalAgent(config(), tap=tap) as server:
        yield server


def client(agent: LocalAgent, key: str = API_KEY) -> ElevenLabs:
    return ElevenLabs(api_key=key, base_url=agent.url)


async def until_tapped(tap: Tap, side: str, kind: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(s == side and f'"type":"{kind}"' in str(f).replace(" ", "") for _d, s, f in tap.frames):
        assert time.monotonic() < deadline, f"no {side} {kind} in {timeout}s"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def talking(tap: Tap, **kwargs: Any) -> AsyncIterator[Conversation]:
    """A started conversation (metadata received); ended and joined on exit."""
    conversation = Conversation(**kwargs)
    await asyncio.to_thread(conversation.start_session)
    try:
        await until_tapped(tap, "server", "conversation_initiation_metadata")
        yield conversation
    finally:
        await asyncio.to_thread(conversation.end_session)
        await asyncio.to_thread(conversation.wait_for_session_end)


async def say(conversation: Conversation, text: str) -> None:
    await asyncio.to_thread(conversation.send_user_message, text)


def no_errors(tap: Tap) -> None:
    assert "error" not in tap.types("server")


async def test_text_only_conversation(agent: LocalAgent, tap: Tap) -> None:
    responses = Seen()
    async with talking(tap, client=client(agent), agent_id=PUBLIC, requires_auth=False,
                       callback_agent_response=responses) as conversation:
        await say(conversation, "what is two plus three")
        assert await responses.wait() == "2 plus 3 is 5."
        await say(conversation, "what is ten minus four")
        await responses.wait(lambda r: r == "10 minus 4 is 6.")
    initiation, *rest = tap.messages("client")
    assert initiation["type"] == "conversation_initiation_client_data"
    assert initiation["conversation_config_override"] == {"text_only": True}  # the SDK without audio
    assert [m["type"] for m in rest if m["type"] == "user_message"] == ["user_message"] * 2
    server = tap.types("server")
    assert server[0] == "conversation_initiation_metadata" and "audio" not in server
    no_errors(tap)


async def test_public_agent_with_overrides(agent: LocalAgent, tap: Tap) -> None:
    responses = Seen()
    overrides = ConversationInitiationData(
        conversation_config_override={"agent": {"first_message": "Welcome to the local agent.", "language": "en"}},
        dynamic_variables={"user_name": "Ada"}, extra_body={"temperature": 0.2})
    async with talking(tap, client=client(agent, key="not-needed-for-a-public-agent"), agent_id=PUBLIC,
                       requires_auth=False, config=overrides, callback_agent_response=responses) as conversation:
        assert await responses.wait() == "Welcome to the local agent."
        await say(conversation, "hello")
        await responses.wait(lambda r: r.startswith("Hello!"))
    tap.messages("client")
    no_errors(tap)


async def test_private_agent_through_a_signed_url(agent: LocalAgent, tap: Tap) -> None:
    responses = Seen()
    async with talking(tap, client=client(agent), agent_id=PRIVATE, requires_auth=True,
                       callback_agent_response=responses) as conversation:
        await say(conversation, "what is six times seven")
        assert await responses.wait() == "6 times 7 is 42."
    assert conversation._conversation_id and conversation._conversation_id.startswith("conv_")
    tap.messages("client")
    tap.messages("server")
    # without the signed URL the same private agent is refused, and the SDK says so
    ended = Seen()
    refused = Conversation(client=client(agent), agent_id=PRIVATE, requires_auth=False, callback_disconnect=ended)
    await asyncio.to_thread(refused.start_session)
    details: DisconnectionDetails = await ended.wait()
    await asyncio.to_thread(refused.wait_for_session_end)
    assert details.reason == "error" and "403" in str(details.message)


async def test_client_tool_answers_the_time(agent: LocalAgent, tap: Tap) -> None:
    tools = ClientTools()
    asked: list[dict[str, Any]] = []

    def get_local_time(parameters: dict[str, Any]) -> str:
        asked.append(parameters)
        return "10:42 AM"

    tools.register("get_local_time", get_local_time)
    responses = Seen()
    async with talking(tap, client=client(agent), agent_id=PUBLIC, requires_auth=False, client_tools=tools,
                       callback_agent_response=responses) as conversation:
        await say(conversation, "what time is it")
        assert await responses.wait() == "Your local time is 10:42 AM."
    (parameters,) = asked
    assert set(parameters) == {"tool_call_id"}  # the SDK adds the call id to the (empty) parameters
    (result,) = [m for m in tap.messages("client") if m["type"] == "client_tool_result"]
    assert result == {"type": "client_tool_result", "tool_call_id": parameters["tool_call_id"],
                      "result": "10:42 AM", "is_error": False}
    (call,) = [m for m in tap.messages("server") if m["type"] == "client_tool_call"]
    assert call["client_tool_call"]["tool_name"] == "get_local_time"


async def test_contextual_update_is_accepted(agent: LocalAgent, tap: Tap) -> None:
    responses = Seen()
    async with talking(tap, client=client(agent), agent_id=PUBLIC, requires_auth=False,
                       callback_agent_response=responses) as conversation:
        await asyncio.to_thread(conversation.send_contextual_update, "The user is looking at the pricing page.")
        await asyncio.to_thread(conversation.register_user_activity)
        await say(conversation, "thank you")
        assert await responses.wait() == "You're welcome!"
    client_types = tap.types("client")
    assert client_types.index("contextual_update") < client_types.index("user_message")
    assert "user_activity" in client_types
    no_errors(tap)


async def test_audio_interface_with_a_tone(tmp_path: Path) -> None:
    tap = Tap()
    audio = WavAudio(write_wav(tmp_path / "tone.wav", tone(600) + bytes(32000 * 2)))
    responses = Seen()
    async with LocalAgent(config(brain="echo"), tap=tap) as agent, talking(
            tap, client=client(agent), agent_id=PUBLIC, requires_auth=False, audio_interface=audio,
            callback_agent_response=responses):
        assert await responses.wait() == "I heard you."
        deadline = time.monotonic() + 10
        while len(audio.output_audio) < 16000 * 2 // 2:  # half a second of the agent's audio
            assert time.monotonic() < deadline, len(audio.output_audio)
            await asyncio.sleep(0.02)
    client_types = tap.types("client")
    assert client_types[0] == "conversation_initiation_client_data" and "user_audio_chunk" in client_types
    server = tap.messages("server")
    meta = server[0]["conversation_initiation_metadata_event"]
    assert meta["user_input_audio_format"] == meta["agent_output_audio_format"] == "pcm_16000"
    assert any(m["type"] == "audio" for m in server)
    assert_reply_text_comes_with_its_first_audio(tap)
    no_errors(tap)


@pytest.mark.slow
async def test_a_spoken_conversation_through_the_audio_interface(tmp_path: Path) -> None:
    tap = Tap()
    async with LocalAgent(config(speech=True), tap=tap) as agent:
        assert agent.voice is not None and agent.voice.synth.name != "tone", agent.notices
        spoken = await asyncio.to_thread(agent.voice.synth.synthesize, "What is twelve plus seven?")
        question = resample_pcm16(spoken, agent.voice.synth.rate, 16000)
        audio = WavAudio(write_wav(tmp_path / "question.wav", question + bytes(32000 * 2)))
        heard, responses = Seen(), Seen()
        async with talking(tap, client=client(agent), agent_id=PUBLIC, requires_auth=False, audio_interface=audio,
                           callback_user_transcript=heard, callback_agent_response=responses):
            assert await heard.wait(timeout=30) == "what is twelve plus seven"
            assert await responses.wait(timeout=30) == "12 plus 7 is 19."
            deadline = time.monotonic() + 15
            while len(audio.output_audio) < 16000 * 2:  # a second of real speech, not a beep
                assert time.monotonic() < deadline, len(audio.output_audio)
                await asyncio.sleep(0.05)
    server_types = tap.types("server")
    assert server_types.index("user_transcript") < server_types.index("agent_response")
    assert_reply_text_comes_with_its_first_audio(tap)
    no_errors(tap)


def assert_reply_text_comes_with_its_first_audio(tap: Tap) -> None:
    """The hosted order: each reply's agent_response just before the reply's first audio
    chunk (same event_id), the rest of the audio after it."""
    server = tap.messages("server")
    firsts: dict[int, int] = {}
    for position, message in enumerate(server):
        if message["type"] == "audio":
            firsts.setdefault(message["audio_event"]["event_id"], position)
    replies = [(p, m["agent_response_event"]["event_id"]) for p, m in enumerate(server)
               if m["type"] == "agent_response"]
    assert replies and firsts, [m["type"] for m in server]
    for position, event_id in replies:
        assert event_id in firsts and position == firsts[event_id] - 1, (position, event_id, firsts)
        later = server[position + 2:]
        assert any(m["type"] == "audio" and m["audio_event"]["event_id"] == event_id for m in later)

