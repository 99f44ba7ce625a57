"""The project's own Atoms client (adapter + transport) against the local agent."""

from __future__ import annotations

import asyncio

import pytest

from tests.agent.conftest import AGENT_ID, API_KEY
from voicecli.agent.server import LocalAgent
from voicecli.errors import AuthError
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import Close, SendText
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    Event,
    SessionEnded,
    SessionStarted,
    TranscriptFinal,
)
from voicecli.secrets import Secret
from voicecli.transport import HandshakeRejected, connect, http_request
from voicecli.transport.errors import ConnectionEnded


async def _open(agent: LocalAgent, auth: str, key: str = API_KEY, rate: int = 16000) -> tuple[AtomsAdapter, object]:
    adapter = AtomsAdapter(DialectConfig(url=agent.url, agent_id=AGENT_ID, api_key=Secret(key),
                                         sample_rate=rate, options={"auth": auth}))
    while (request := adapter.prepare()) is not None:
        status, body = await http_request(request)
        adapter.on_http_response(status, body)
    try:
        conn = await connect(adapter.handshake())
    except HandshakeRejected as exc:
        raise adapter.handshake_error(exc.status, exc.body) from None
    return adapter, conn


async def _events(adapter: AtomsAdapter, conn: object, stop: type[Event], timeout: float = 10) -> list[Event]:
    events: list[Event] = []
    while not any(isinstance(e, stop) for e in events):
        try:
            frame = await asyncio.wait_for(conn.recv(), timeout)  # type: ignore[attr-defined]
        except ConnectionEnded as exc:
            events.extend(adapter.on_close(exc.code, exc.reason))
            break
        events.extend(adapter.feed(frame))
    return events


@pytest.mark.parametrize("auth", ["header", "query", "register-call"])
async def test_atoms_client_talks_to_the_local_agent(agent: LocalAgent, auth: str) -> None:
    adapter, conn = await _open(agent, auth)
    started = await _events(adapter, conn, SessionStarted)
    session = started[-1]
    assert isinstance(session, SessionStarted)
    expected_rate = 24000 if auth == "register-call" else 16000
    assert session.output_format.sample_rate == expected_rate
    for frame in adapter.encode(SendText("peer test")):
        await conn.send(frame)  # type: ignore[attr-defined]
    events = await _events(adapter, conn, AgentStoppedTalking)
    kinds = [type(e) for e in events]
    assert kinds[0] is AgentStartedTalking and AgentAudio in kinds
    finals = [e for e in events if isinstance(e, TranscriptFinal)]
    assert finals and finals[-1].role == "agent" and finals[-1].text == "You said: peer test."
    for frame in adapter.encode(Close()):
        await conn.send(frame)  # type: ignore[attr-defined]
    ended = [e for e in await _events(adapter, conn, SessionEnded) if isinstance(e, SessionEnded)]
    assert ended[0].reason == "client_requested" and ended[0].error is None
    await conn.close()  # type: ignore[attr-defined]


async def test_atoms_client_sees_a_wrong_key_as_auth_error(agent: LocalAgent) -> None:
    with pytest.raises(AuthError):
        await _open(agent, "header", key="sk_wrong")
    with pytest.raises(AuthError):
        await _open(agent, "register-call", key="sk_wrong")


async def test_atoms_client_sees_error_4000_as_final(agent: LocalAgent) -> None:
    adapter = AtomsAdapter(DialectConfig(url=agent.url, agent_id=AGENT_ID, api_key=Secret(API_KEY)))
    handshake = adapter.handshake()
    conn = await connect(type(handshake)(url=handshake.url + "&fault=error%401", headers=handshake.headers))
    events = await _events(adapter, conn, SessionEnded)
    ended = events[-1]
    assert isinstance(ended, SessionEnded)
    assert ended.close_code == 4000 and ended.retryable is False and "injected fault" in (ended.error or "")
