"""The official ElevenLabs JS client (``@elevenlabs/client``, under node) holds
conversations with the local agent: ``tests/conformance/js/converse.mjs`` runs one
conversation per test and prints what the client saw as JSON lines; the agent's frame tap
sees both sides, and every frame must match the vendor AsyncAPI schemas."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.protocol.tapped import TappedFrames
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent

AGENT_ID = "agent-js"
API_KEY = "sk_js_local_key"
RATE = 16000
RUN_TIMEOUT_S = 30.0


def config(**overrides: Any) -> AgentConfig:
    """The agent for a test; its speech on a virtual clock (no waiting) unless ``speed`` is given."""
    options: dict[str, Any] = dict(api_key=API_KEY, agent_ids={AGENT_ID}, greeting="", brain="echo",
                                   speech=False, speed=math.inf)
    options.update(overrides)
    return AgentConfig(**options)


@dataclass
class ClientRun:
    """What the JS client printed, and how its process ended."""

    lines: list[dict[str, Any]]
    returncode: int
    stderr: str

    def of(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["event"] == event]

    def one(self, event: str) -> dict[str, Any]:
        found = self.of(event)
        assert len(found) == 1, f"{event}: {found}\n{self}"
        return found[0]

    def ai_messages(self) -> list[str]:
        return [line["message"] for line in self.of("message") if line["source"] == "ai"]

    def assert_ended_cleanly(self) -> None:
        assert self.returncode == 0 and self.of("done"), str(self)
        assert not [line for line in self.of("error")], str(self)
        assert self.one("disconnect")["reason"] == "user"  # the client ended it
        closed = self.one("socket_closed")
        assert (closed["code"], closed["reason"], closed["clean"]) == (1000, "User ended conversation", True)

    def __str__(self) -> str:
        return "\n".join(json.dumps(line) for line in self.lines) + f"\nexit {self.returncode}\n{self.stderr}"


async def run_client(peer: Path, mode: str, agent: LocalAgent, **env: str) -> ClientRun:
    """Run ``converse.mjs MODE URL AGENT_ID``; secrets travel in ``env``, never in argv."""
    child_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
                 "TIMEOUT_MS": str(int(RUN_TIMEOUT_S * 1000) - 5000), **env}
    proc = await asyncio.create_subprocess_exec(
        "node", "converse.mjs", mode, agent.url, AGENT_ID, cwd=peer, env=child_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
    lines = [json.loads(text) for text in out.decode().splitlines() if text.startswith("{")]
    return ClientRun(lines, proc.returncode if proc.returncode is not None else -1, err.decode())


@pytest.fixture
def frames() -> TappedFrames:
    return TappedFrames()


@pytest.fixture
async def public_agent(frames: TappedFrames) -> AsyncIterator[LocalAgent]:
    """A server with a key where this agent is public (private ones beside it)."""
    async with LocalAgent(config(public_agents={AGENT_ID}, agent_ids={AGENT_ID, "agent-private"}),
                          tap=frames) as server:
        yield server


@pytest.fixture
async def private_agent(frames: TappedFrames) -> AsyncIterator[LocalAgent]:
    async with LocalAgent(config(), tap=frames) as server:
        yield server


def assert_text_only_conversation(run: ClientRun, frames: TappedFrames, said: str) -> None:
    run.assert_ended_cleanly()
    started = run.one("started")
    assert (started["type"], started["protocol"]) == ("text", "convai")
    assert run.ai_messages() == [f"You said: {said}."]
    client = frames.messages("client")
    assert client[0]["type"] == "conversation_initiation_client_data"
    assert client[0]["conversation_config_override"]["conversation"] == {"text_only": True}
    assert client[0]["source_info"]["source"] == "js_sdk"
    assert {"type": "user_message", "text": said} in client
    assert frames.kinds("server")[0] == "conversation_initiation_metadata"
    assert "audio" not in frames.kinds("server")  # text only: no audio at all
    frames.validate("elevenlabs")


async def test_text_conversation_on_a_public_agent(node_peer: Path, public_agent: LocalAgent,
                                                   frames: TappedFrames) -> None:
    run = await run_client(node_peer, "text", public_agent, USER_TEXT="hello there")
    assert_text_only_conversation(run, frames, "hello there")


async def test_private_agent_with_a_signed_url(node_peer: Path, private_agent: LocalAgent,
                                               frames: TappedFrames) -> None:
    run = await run_client(node_peer, "signed", private_agent, XI_API_KEY=API_KEY, USER_TEXT="signed in")
    assert run.one("signed_url")["path"] == "/v1/convai/conversation"
    assert_text_only_conversation(run, frames, "signed in")
    assert API_KEY not in str(run)


async def test_private_agent_with_the_authorization_option(node_peer: Path, private_agent: LocalAgent,
                                                           frames: TappedFrames) -> None:
    """``authorization`` travels as the ``bearer.<credential>`` subprotocol."""
    run = await run_client(node_peer, "bearer", private_agent, XI_API_KEY=API_KEY, USER_TEXT="bearer")
    assert_text_only_conversation(run, frames, "bearer")


async def test_private_agent_refuses_a_client_without_credentials(node_peer: Path, private_agent: LocalAgent,
                                                                  frames: TappedFrames) -> None:
    run = await run_client(node_peer, "text", private_agent)
    assert run.returncode == 1
    assert "SessionConnectionError" in run.of("error")[-1]["message"]
    assert not run.of("started") and not frames.frames


def tone_then_silence(tone_ms: int, silence_ms: int) -> bytes:
    n = RATE * tone_ms // 1000
    tone = struct.pack(f"<{n}h", *(int(0.3 * 32767 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(n)))
    return tone + b"\x00\x00" * (RATE * silence_ms // 1000)


@pytest.mark.realtime
async def test_voice_conversation_over_the_clients_websocket(node_peer: Path, tmp_path: Path,
                                                             frames: TappedFrames) -> None:
    """The client's VoiceConversation, WebSocketConnection and audio wiring; the
    microphone and the speaker are node stand-ins (js/node-audio.mjs). The agent speaks in
    real time here (the ElevenLabs dialect's one real-time run with a vendor client)."""
    mic, played = tmp_path / "mic.pcm", tmp_path / "played.pcm"
    mic.write_bytes(spoken := tone_then_silence(400, 300))
    async with LocalAgent(config(api_key=None, vad_hangover_ms=300, speed=1.0), tap=frames) as server:
        run = await run_client(node_peer, "voice", server, VOICE_PCM=str(mic), PLAYED_PCM=str(played))
    run.assert_ended_cleanly()
    started = run.one("started")
    assert (started["type"], started["protocol"]) == ("voice", "convai")
    metadata = frames.messages("server")[0]["conversation_initiation_metadata_event"]
    assert metadata["agent_output_audio_format"] == "pcm_16000" == "{format}_{sampleRate}".format(**started["output"])
    # the microphone's audio reached the agent, byte for byte, in the client's chunks
    sent = b"".join(base64.b64decode(m["user_audio_chunk"]) for m in frames.messages("client")
                    if "user_audio_chunk" in m)
    assert sent[:len(spoken)] == spoken
    # the agent answered; every audio byte it sent was handed to the speaker
    assert run.ai_messages() == ["I heard you."]
    agent_audio = b"".join(base64.b64decode(m["audio_event"]["audio_base_64"]) for m in frames.messages("server")
                           if m["type"] == "audio")
    heard = played.read_bytes()
    assert heard == agent_audio and len(heard) % 2 == 0
    samples = struct.unpack(f"<{len(heard) // 2}h", heard)
    assert max(abs(s) for s in samples) > 1000  # PCM16 with sound in it, not silence
    assert run.of("playback")[-1]["finished"]
    frames.validate("elevenlabs")


async def test_client_tool_get_local_time(node_peer: Path, frames: TappedFrames) -> None:
    """Asked "what time is it", the rules brain calls the client tool ``get_local_time``."""
    async with LocalAgent(config(api_key=None, brain="rules"), tap=frames) as server:
        run = await run_client(node_peer, "tools", server, USER_TEXT="what time is it")
    run.assert_ended_cleanly()
    call = run.one("tool_call")
    assert call["name"] == "get_local_time"
    server_calls = [m["client_tool_call"] for m in frames.messages("server") if m["type"] == "client_tool_call"]
    results = [m for m in frames.messages("client") if m["type"] == "client_tool_result"]
    assert [c["tool_name"] for c in server_calls] == ["get_local_time"]
    assert results == [{"type": "client_tool_result", "tool_call_id": server_calls[0]["tool_call_id"],
                        "result": "It is 10:42 local time.", "is_error": False}]
    assert run.ai_messages(), "the agent answered after the tool result"
    frames.validate("elevenlabs")
