"""WebSocket subprotocols on the ElevenLabs endpoint, as the JS client offers them:
``convai`` always, and ``bearer.<credential>`` when it is given an ``authorization``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.agent_dialects.conftest import AGENT_ID, API_KEY, http, recv_json, ws_url
from voicecli.agent.server import LocalAgent
from voicecli.protocol.base import HttpRequest

PATH = "/v1/convai/conversation"
INIT = json.dumps({"type": "conversation_initiation_client_data"})


def offer(url: str, protocols: list[str]) -> Any:
    return connect(url, subprotocols=[Subprotocol(p) for p in protocols] or None, open_timeout=5)


async def signed_token(agent: LocalAgent, single_use: bool = False) -> str:
    url = f"{agent.url}/v1/convai/conversation/get-signed-url?agent_id={AGENT_ID}"
    if single_use:
        url += "&include_conversation_id=true"
    status, body = await http(HttpRequest("GET", url, {"xi-api-key": API_KEY}))
    assert status == 200
    signed: str = json.loads(body)["signed_url"]
    return signed.split("token=", 1)[1]


async def converse(ws: Any) -> None:
    """The conversation starts: the first server message is the metadata."""
    await ws.send(INIT)
    first = await recv_json(ws)
    assert first["type"] == "conversation_initiation_metadata"


async def test_convai_is_answered_when_offered(open_agent: LocalAgent) -> None:
    async with offer(ws_url(open_agent, PATH, agent_id=AGENT_ID), ["convai"]) as ws:
        assert ws.subprotocol == "convai"
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "convai"
        await converse(ws)


async def test_no_offer_gets_no_subprotocol(open_agent: LocalAgent) -> None:
    async with offer(ws_url(open_agent, PATH, agent_id=AGENT_ID), []) as ws:
        assert ws.subprotocol is None
        assert "Sec-WebSocket-Protocol" not in ws.response.headers
        await converse(ws)


async def test_only_an_offered_protocol_is_picked(open_agent: LocalAgent) -> None:
    async with offer(ws_url(open_agent, PATH, agent_id=AGENT_ID), ["chat"]) as ws:
        assert ws.subprotocol is None
        await converse(ws)


async def test_other_dialects_do_not_answer_convai(open_agent: LocalAgent) -> None:
    url = ws_url(open_agent, "/atoms/v1/agent/connect", agent_id=AGENT_ID)
    async with offer(url, ["convai"]) as ws:
        assert ws.subprotocol is None


async def test_bearer_api_key_opens_a_private_agent(agent: LocalAgent) -> None:
    async with offer(ws_url(agent, PATH, agent_id=AGENT_ID), ["convai", f"bearer.{API_KEY}"]) as ws:
        assert ws.subprotocol == "convai"
        assert API_KEY not in str(ws.response.headers)  # the credential is never echoed
        await converse(ws)


async def test_bearer_signed_url_token_is_used_like_the_signed_url(agent: LocalAgent) -> None:
    """Reusable while it lasts, as the signed URL is; single use with include_conversation_id."""
    url = ws_url(agent, PATH, agent_id=AGENT_ID)
    token = await signed_token(agent)
    for _ in range(2):
        async with offer(url, ["convai", f"bearer.{token}"]) as ws:
            assert ws.subprotocol == "convai"
            await converse(ws)
    token = await signed_token(agent, single_use=True)
    async with offer(url, ["convai", f"bearer.{token}"]) as ws:
        await converse(ws)
    with pytest.raises(InvalidStatus) as refused:
        async with offer(url, ["convai", f"bearer.{token}"]):
            pass
    assert refused.value.response.status_code == 403


async def test_bearer_token_for_another_agent_is_refused(agent: LocalAgent) -> None:
    token = await signed_token(agent)
    with pytest.raises(InvalidStatus) as refused:
        async with offer(ws_url(agent, PATH, agent_id="agent-2"), ["convai", f"bearer.{token}"]):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("protocols", [["convai"], ["convai", "bearer.wrong"], ["convai", "bearer."]])
async def test_private_agent_refuses_without_a_valid_credential(agent: LocalAgent,
                                                                 protocols: list[str]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with offer(ws_url(agent, PATH, agent_id=AGENT_ID), protocols):
            pass
    assert refused.value.response.status_code == 403
    assert b"wrong" not in (refused.value.response.body or b"")
