"""Authentication, register-call tokens and request routing of the local agent."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.agent.conftest import API_KEY, make_config, recv_json, ws_url
from voicecli.agent.server import LocalAgent
from voicecli.protocol.base import HttpRequest
from voicecli.transport import http_request


async def _status(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, additional_headers=headers or {}, open_timeout=5):
            pass
    return info.value.response.status_code, bytes(info.value.response.body or b"")


async def _register(agent: LocalAgent, key: str | None = API_KEY, **body: object) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = HttpRequest.json("POST", agent.url + "/atoms/v1/conversation/register-call",
                               {"agent_id": "agent-1", **body}, headers)
    status, raw = await http_request(request)
    return status, json.loads(raw)


async def test_register_call_token_works_once(agent: LocalAgent) -> None:
    status, body = await _register(agent, mode="webcall", variables={"name": "Ada", "call_id": "x"})
    assert status == 201 and body["status"] is True
    data = body["data"]
    assert data["access_token"].startswith("wct_") and data["expires_in"] == 30
    assert data["sample_rate"] == 24000
    url = ws_url(agent, token=data["access_token"], sample_rate=8000)
    async with connect(url, open_timeout=5) as ws:
        created = await recv_json(ws)
    assert created["sample_rate"] == 24000  # a wct_ token fixes the rate
    status, text = await _status(url)
    assert status == 401 and b"already used" in text


async def test_register_call_token_in_header_and_chat_mode(agent: LocalAgent) -> None:
    _status_code, body = await _register(agent, mode="chat")
    token = body["data"]["access_token"]
    async with connect(ws_url(agent), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "input_text.send", "text": "hi"}))
        message = await recv_json(ws)
    # chat: no agent_start_talking, no audio, no deltas: the whole reply at once
    assert message == {"type": "transcript", "role": "assistant", "text": "You said: hi."}


async def test_register_call_refusals(agent: LocalAgent) -> None:
    assert (await _register(agent, key="sk_wrong"))[0] == 401
    assert (await _register(agent, key=None))[0] == 401
    assert (await _register(agent, mode="video"))[0] == 400
    status, body = await _register(agent, agent_id="nobody")
    assert status == 404 and body["status"] is False


async def test_expired_token_is_refused(agent: LocalAgent) -> None:
    token = "wct_" + agent.keys.issue_token({"dialect": "atoms", "agent_id": "agent-1"}, 0.05)
    await asyncio.sleep(0.1)
    status, _ = await _status(ws_url(agent, token=token))
    assert status == 401


@pytest.mark.parametrize(("query", "headers", "expected"), [
    ({"agent_id": "agent-1"}, {"Authorization": "Bearer sk_wrong"}, 401),
    ({"agent_id": "agent-1"}, {}, 401),
    ({"agent_id": "agent-1", "token": "sk_wrong"}, {}, 401),
    ({"agent_id": "nobody"}, {"Authorization": f"Bearer {API_KEY}"}, 401),
    ({}, {"Authorization": f"Bearer {API_KEY}"}, 401),
    ({"agent_id": "agent-1", "mode": "video"}, {"Authorization": f"Bearer {API_KEY}"}, 400),
    ({"agent_id": "agent-1", "sample_rate": "44100"}, {"Authorization": f"Bearer {API_KEY}"}, 400),
    ({"agent_id": "agent-1", "variables": "[1]"}, {"Authorization": f"Bearer {API_KEY}"}, 400),
    ({"agent_id": "agent-1", "token": "sk_other"}, {"Authorization": f"Bearer {API_KEY}"}, 400),
])
async def test_upgrade_refusals(agent: LocalAgent, query: dict, headers: dict, expected: int) -> None:
    status, _ = await _status(ws_url(agent, **query), headers)
    assert status == expected


async def test_no_key_server_accepts_anyone() -> None:
    async with LocalAgent(make_config(api_key=None, agent_ids=None)) as server:
        async with connect(ws_url(server, agent_id="any-agent")) as ws:
            assert (await recv_json(ws))["type"] == "session.created"


async def test_unknown_paths_get_404_and_wrong_methods_405(agent: LocalAgent) -> None:
    status, _ = await _status(ws_url(agent, "/no/such/socket"))
    assert status == 404
    status, _ = await http_request(HttpRequest("GET", agent.url + "/nope"))
    assert status == 404
    status, _ = await http_request(HttpRequest("GET", agent.url + "/atoms/v1/conversation/register-call"))
    assert status == 405
    status, body = await http_request(HttpRequest("GET", agent.url + "/healthz"))
    assert status == 200 and json.loads(body)["dialects"]["atoms"] == "/atoms/v1/agent/connect"


async def test_fault_query_needs_faults_allowed() -> None:
    async with LocalAgent(make_config(allow_faults=False)) as server:
        url = ws_url(server, agent_id="agent-1", fault="close:4001@1")
        status, body = await _status(url, {"Authorization": f"Bearer {API_KEY}"})
    assert status == 400 and b"disabled" in body


async def test_garbage_request_gets_400(agent: LocalAgent) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.port)
    writer.write(b"NONSENSE\r\n\r\n")
    start = time.monotonic()
    reply = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert reply.startswith(b"HTTP/1.1 400") and time.monotonic() - start < 5
