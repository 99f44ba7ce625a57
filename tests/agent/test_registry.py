"""The dialect registry as other dialects use it: a toy binary dialect registered by a test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import ClassVar

import pytest
from websockets.asyncio.client import connect

from tests.agent.conftest import silence, tone
from voicecli.agent import dialects
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    Closing,
    ErrorOut,
    Frame,
    HttpCall,
    HttpReply,
    Interrupted,
    KeyCheck,
    PingOut,
    ProtocolViolation,
    Ready,
    Reject,
    ServerDialect,
    TalkStart,
    TalkStop,
    TranscriptOut,
    UpgradeRequest,
    UserAudio,
    UserInput,
    UserPong,
    UserText,
)
from voicecli.agent.server import LocalAgent
from voicecli.agent.voice_contracts import BaseBrain
from voicecli.protocol.base import HttpRequest
from voicecli.transport import http_request

PATH = "/test/toy"


class ToyDialect(ServerDialect):
    """Token first (like token-pcm), binary frames are whole-utterance clips, JSON otherwise."""

    name: ClassVar[str] = "toy"
    path: ClassVar[str] = PATH
    ping_interval = 0.2

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        return None if request.query.get("ok") == "1" else Reject(403, "toy says no")

    @property
    def ready_on_open(self) -> bool:
        return False

    def on_open(self) -> list[Frame]:
        return [json.dumps({"type": "connected"})]

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        if isinstance(frame, bytes):
            return [UserAudio(frame, self.input_rate, whole_utterance=True)]
        message = json.loads(frame)
        if "token" in message:
            return [Ready("toy-session", self.input_rate, self.output_rate, greeting=message.get("greeting"))]
        if message.get("type") == "pong":
            return [UserPong(message["event_id"])]
        if message.get("type") == "text":
            return [UserText(message["text"])]
        return [ProtocolViolation("unknown message", code="bad", close_code=4002)]

    def encode(self, output: AgentOutput) -> list[Frame]:
        if isinstance(output, AudioOut):
            return [output.pcm]
        if isinstance(output, Ready):
            return [json.dumps({"type": "ready", "rate": output.output_rate})]
        if isinstance(output, PingOut):
            return [json.dumps({"type": "ping", "event_id": output.event_id})]
        if isinstance(output, TranscriptOut) and output.final:
            return [json.dumps({"type": "said", "role": output.role, "text": output.text})]
        if isinstance(output, (TalkStart, TalkStop, Interrupted)):
            return [json.dumps({"type": type(output).__name__})]
        if isinstance(output, ErrorOut):
            return [json.dumps({"type": "error", "code": output.code})]
        if isinstance(output, Closing):
            return [json.dumps({"type": "bye", "reason": output.reason})]
        return []


def toy_token(call: HttpCall, keys: KeyCheck) -> HttpReply:
    return HttpReply.json(200, {"token": keys.issue_token({"base": call.base_url}, 5), "base": call.base_url})


@pytest.fixture
def toy() -> Iterator[None]:
    dialects.load_all()
    dialects.register(ToyDialect)
    dialects.register_http("POST", "/test/toy/token", toy_token)
    yield
    dialects.DIALECTS.pop(PATH, None)
    dialects.HTTP_ENDPOINTS.pop(("POST", "/test/toy/token"), None)


async def _json(ws: object, kind: str, timeout: float = 5) -> dict:
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout)  # type: ignore[attr-defined]
        if isinstance(raw, str) and json.loads(raw)["type"] == kind:
            return json.loads(raw)  # type: ignore[no-any-return]


async def test_registered_dialect_lifecycle(agent: LocalAgent, toy: None) -> None:
    status, body = await http_request(HttpRequest("POST", agent.url + "/test/toy/token", body=b"{}"))
    assert status == 200 and json.loads(body)["base"] == agent.url
    url = agent.url.replace("http", "ws") + PATH
    async with connect(url + "?ok=1") as ws:
        assert json.loads(await ws.recv()) == {"type": "connected"}
        with pytest.raises(asyncio.TimeoutError):  # not ready until the token message
            await asyncio.wait_for(ws.recv(), 0.1)
        await ws.send(json.dumps({"token": "t"}))
        assert await _json(ws, "ready") == {"type": "ready", "rate": 16000}
        ping = await _json(ws, "ping")
        await ws.send(json.dumps({"type": "pong", "event_id": ping["event_id"]}))
        assert (await _json(ws, "ping"))["event_id"] == ping["event_id"] + 1
        await ws.send(tone(300, 16000) + silence(100, 16000))  # one whole clip is one turn
        await _json(ws, "TalkStart")
        binary = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(binary, bytes) and len(binary) == 16000 * 2 * 40 // 1000
        said = await _json(ws, "said")
        assert said == {"type": "said", "role": "agent", "text": "I heard you."}
        await ws.send(json.dumps({"type": "what"}))
        assert (await _json(ws, "error"))["code"] == "bad"
        assert (await _json(ws, "bye"))["reason"] == "protocol_error"
        with pytest.raises(Exception):
            await asyncio.wait_for(ws.recv(), 3)
    assert ws.close_code == 4002


async def test_ready_from_the_dialect_can_override_the_greeting(agent: LocalAgent, toy: None) -> None:
    async with connect(agent.url.replace("http", "ws") + PATH + "?ok=1") as ws:
        await ws.send(json.dumps({"token": "t", "greeting": "Toy hello."}))
        said = await _json(ws, "said")
    assert said["text"] == "Toy hello."


async def test_ready_timeout_runs_the_dialects_timeout_outputs(agent: LocalAgent, toy: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ToyDialect, "ready_timeout", 0.2, raising=False)
    start = asyncio.get_running_loop().time()  # before connecting: the server's wait starts on accepting
    async with connect(agent.url.replace("http", "ws") + PATH + "?ok=1") as ws:
        bye = await _json(ws, "bye")
        with pytest.raises(Exception):
            await asyncio.wait_for(ws.recv(), 3)
    assert bye["reason"] == "timeout" and ws.close_code == 1008
    assert asyncio.get_running_loop().time() - start >= 0.2


async def test_registered_dialect_can_refuse(agent: LocalAgent, toy: None) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        async with connect(agent.url.replace("http", "ws") + PATH):
            pass
    assert info.value.response.status_code == 403


def test_register_rejects_a_taken_path() -> None:
    dialects.load_all()

    class Other(ToyDialect):
        path: ClassVar[str] = "/atoms/v1/agent/connect"

    with pytest.raises(ValueError):
        dialects.register(Other)


class _Broken(BaseBrain):
    name = "broken"

    def greeting(self) -> str | None:
        return None

    async def reply(self, user_text: str):  # type: ignore[no-untyped-def]
        yield "First words. "
        raise RuntimeError("the brain fell over")


async def test_a_failing_brain_ends_the_turn_with_an_error(agent: LocalAgent) -> None:
    from tests.agent.conftest import atoms_connect, recv_json, until

    assert agent.voice is not None
    agent.voice.make_brain = _Broken  # type: ignore[assignment]
    async with atoms_connect(agent) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "input_text.send", "text": "hi"}))
        seen: list[dict] = []
        await until(ws, "agent_stop_talking", seen=seen)
        await ws.send(json.dumps({"type": "session.close"}))
        await until(ws, "session.closed")
    kinds = [m["type"] for m in seen]
    assert "error" in kinds and "transcript" in kinds
    assert kinds.index("agent_start_talking") < kinds.index("error")
