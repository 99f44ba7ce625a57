"""The local agent's ElevenLabs sessions over a real loopback WebSocket: public and private
agents on one server, text-only sessions, client tools and the prompt override."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.agent_dialects.conftest import (
    AGENT_ID,
    API_KEY,
    http,
    make_config,
    raw_connect,
    recv_json,
    until,
    ws_url,
)
from tests.agent_speech.fake_llm import FakeLlm, running, stream_words
from tests.support.waiting import patience
from voicecli.agent.server import LocalAgent
from voicecli.protocol.base import HttpRequest

PATH = "/v1/convai/conversation"
PUBLIC = "agent-public"


def init(**extra: Any) -> str:
    return json.dumps({"type": "conversation_initiation_client_data", **extra})


def user(text: str) -> str:
    return json.dumps({"type": "user_message", "text": text})


@pytest.fixture
async def mixed() -> AsyncIterator[LocalAgent]:
    """A server with a key, one private agent and one public agent."""
    async with LocalAgent(make_config(public_agents=(PUBLIC,), brain="rules")) as server:
        yield server


async def test_public_and_private_agents_on_one_server(mixed: LocalAgent) -> None:
    async with raw_connect(ws_url(mixed, PATH, agent_id=PUBLIC)) as ws:  # no key, no signed URL
        await ws.send(init())
        assert (await recv_json(ws))["type"] == "conversation_initiation_metadata"
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(ws_url(mixed, PATH, agent_id=AGENT_ID)):
            pass
    assert info.value.response.status_code == 403
    url = f"{mixed.url}/v1/convai/conversation/get-signed-url?agent_id={AGENT_ID}"
    status, body = await http(HttpRequest("GET", url, {"xi-api-key": API_KEY}))
    assert status == 200
    async with raw_connect(json.loads(body)["signed_url"]) as ws:
        await ws.send(init())
        assert (await recv_json(ws))["type"] == "conversation_initiation_metadata"
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(ws_url(mixed, PATH, agent_id="agent-unknown")):
            pass
    assert info.value.response.status_code == 403  # private (and unknown): no hint which


async def test_text_only_session_sends_no_audio(mixed: LocalAgent) -> None:
    async with raw_connect(ws_url(mixed, PATH, agent_id=PUBLIC)) as ws:
        await ws.send(init(conversation_config_override={"text_only": True}))  # the python SDK's shape
        await recv_json(ws)
        await ws.send(user("what is two plus three"))
        seen: list[dict[str, Any]] = []
        response = await until(ws, "agent_response", seen=seen)
    assert response["agent_response_event"]["agent_response"] == "2 plus 3 is 5."
    assert not [m for m in seen if m["type"] == "audio"]


async def tool_turn(agent: LocalAgent, answer: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """Ask the time, answer the tool call with ``answer`` (None: never); the call and the reply."""
    async with raw_connect(ws_url(agent, PATH, agent_id=PUBLIC)) as ws:
        await ws.send(init())
        await recv_json(ws)
        await ws.send(user("what time is it"))
        call = await until(ws, "client_tool_call")
        if answer is not None:
            await ws.send(json.dumps({"type": "client_tool_result",
                                      "tool_call_id": call["client_tool_call"]["tool_call_id"], **answer}))
        response = await until(ws, "agent_response")
    return call["client_tool_call"], response["agent_response_event"]["agent_response"]


async def test_the_rules_brain_asks_the_client_for_its_time(mixed: LocalAgent) -> None:
    call, said = await tool_turn(mixed, {"result": "10:42 AM", "is_error": False})
    assert call["tool_name"] == "get_local_time" and call["parameters"] == {}
    assert call["tool_call_id"] and isinstance(call["event_id"], int)
    assert said == "Your local time is 10:42 AM."


async def test_a_tool_error_or_silence_falls_back_to_the_agents_clock() -> None:
    config = make_config(public_agents=(PUBLIC,), brain="rules", brain_options={"tool_timeout_s": 0.3})
    async with LocalAgent(config) as agent:
        _call, said = await tool_turn(agent, {"result": "no clock here", "is_error": True})
        assert said.startswith("It's ") and said.endswith(("AM.", "PM."))
        _call, said = await tool_turn(agent, None)
        assert said.startswith("It's ")


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    yield from running()


async def test_prompt_and_language_overrides_reach_the_llm(llm: FakeLlm) -> None:
    llm.script = stream_words("Hola.")
    config = make_config(public_agents=(PUBLIC,), brain="llm", brain_options={"url": llm.url, "model": "m"})
    async with LocalAgent(config) as agent, raw_connect(ws_url(agent, PATH, agent_id=PUBLIC)) as ws:
        override = {"agent": {"prompt": {"prompt": "You are a pirate."}, "language": "es",
                              "first_message": "Ahoy."}}
        await ws.send(init(conversation_config_override=override))
        await recv_json(ws)
        greeting = await until(ws, "agent_response")
        await ws.send(user("hello"))
        reply = await until(ws, "agent_response")
    assert greeting["agent_response_event"]["agent_response"] == "Ahoy."
    assert reply["agent_response_event"]["agent_response"] == "Hola."
    (system, *_rest) = llm.requests[-1]["body"]["messages"]
    assert system["role"] == "system" and system["content"].startswith("You are a pirate.")
    assert "'es'" in system["content"]


def test_serve_public_agent_option() -> None:
    """``voicecli serve --public-agent ID`` (the real command): that agent needs no key,
    the others stay private."""
    import os
    import signal
    import subprocess
    import sys

    from websockets.sync.client import connect

    code = "from voicecli.cli.main import main; import sys; sys.exit(main())"
    args = ["serve", "--port", "0", "--no-speech", "--brain", "echo", "--public-agent", PUBLIC,
            "--public-agent", "agent-two", "--api-key-env", "VOICECLI_TEST_PUBLIC_KEY"]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "VOICECLI_TEST_PUBLIC_KEY": API_KEY})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        assert "listening on" in lines[0], (lines, proc.stderr.read() if proc.poll() is not None else "")
        base = lines[0].split()[-1].replace("http://", "ws://") + PATH
        while "public agents" not in (line := proc.stdout.readline()):
            assert line, "no line about public agents"
        assert PUBLIC in line and "agent-two" in line
        for agent_id in (PUBLIC, "agent-two"):
            with connect(f"{base}?agent_id={agent_id}", open_timeout=5) as ws:
                ws.send(init())
                assert json.loads(ws.recv(timeout=5))["type"] == "conversation_initiation_metadata"
        with pytest.raises(InvalidStatus) as info:
            connect(f"{base}?agent_id={AGENT_ID}", open_timeout=5)
        assert info.value.response.status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(patience(10))
        finally:
            if proc.poll() is None:  # a failing test leaves no server behind
                proc.kill()
                proc.wait(10)
