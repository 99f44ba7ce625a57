"""The local agent under load: the session cap, recognizers lent per utterance, many sessions at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.agent.conftest import append, atoms_connect, make_config, recv_json, silence, tone, until
from voicecli.agent.brains.echo import EchoBrain
from voicecli.agent.factory import Voice
from voicecli.agent.listener import Listener
from voicecli.agent.pool import RecognizerPool
from voicecli.agent.server import LocalAgent
from voicecli.agent.tone import ToneSynthesizer
from voicecli.protocol.base import default_handshake_error

RATE = 16000


class FakeEars:
    """A recognizer that hears "hello" in any audio, and can be made to block in ``feed``."""

    name = "fake"
    rate = RATE

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.feeding = threading.Event()
        self.fed = 0

    def start(self) -> None:
        self.fed = 0

    def feed(self, pcm: bytes) -> str | None:
        self.feeding.set()
        if self.gate is not None:
            self.gate.wait(5)
        self.fed += len(pcm)
        return None

    def finish(self) -> str:
        return "hello" if self.fed else ""


def pooled_agent(limit: int, **config: object) -> tuple[LocalAgent, RecognizerPool]:
    pool = RecognizerPool(FakeEars, FakeEars(), limit)
    agent = LocalAgent(make_config(**config))
    agent.voice = Voice(synth=ToneSynthesizer(), brain_name="echo", make_brain=lambda: EchoBrain(""),
                        recognizers=pool)
    return agent, pool


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.01)


async def speak(ws: object, ms: int = 300) -> None:
    """Start an utterance (the VAD hears speech) without ending it."""
    pcm = silence(100, RATE) + tone(ms, RATE)
    step = RATE * 2 * 40 // 1000
    for offset in range(0, len(pcm), step):
        await ws.send(append(pcm[offset:offset + step]))  # type: ignore[attr-defined]


async def pause(ws: object) -> None:
    """End the utterance: more silence than the VAD's hangover."""
    await ws.send(append(silence(900, RATE)))  # type: ignore[attr-defined]


async def user_text(ws: object) -> str:
    while True:
        message = await until(ws, "transcript")  # type: ignore[arg-type]
        if message["role"] == "user":
            return str(message["text"])


async def drain(ws: object) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _message in ws:  # type: ignore[attr-defined]
            pass


# ---- the session cap -------------------------------------------------------------------


async def test_sessions_beyond_the_cap_get_503_and_a_slot_is_free_when_one_ends() -> None:
    async with LocalAgent(make_config(max_sessions=2)) as server:
        assert server.max_sessions == 2
        async with atoms_connect(server, sample_rate=RATE) as first, atoms_connect(server, sample_rate=RATE) as second:
            for ws in (first, second):
                assert (await recv_json(ws))["type"] == "session.created"
            with pytest.raises(InvalidStatus) as refused:
                async with atoms_connect(server, sample_rate=RATE):
                    pass
            response = refused.value.response
            assert response.status_code == 503 and response.headers["Retry-After"] == "1"
            error = default_handshake_error(503, response.body)
            assert "unavailable" in str(error) and "capacity" in str(error)
            assert server.sessions == 2
            await first.close()
            await eventually(lambda: server.sessions == 1, "the closed session's slot is freed")
            async with atoms_connect(server, sample_rate=RATE) as third:
                assert (await recv_json(third))["type"] == "session.created"
        await eventually(lambda: server.sessions == 0, "every slot is freed")


def test_the_cap_has_a_default_and_is_validated() -> None:
    from voicecli.agent.config import AgentConfig, default_max_recognizers, default_max_sessions

    assert default_max_sessions() >= 8 and default_max_recognizers() >= 1
    assert AgentConfig().session_limit() == default_max_sessions()
    assert AgentConfig(max_sessions=3, max_recognizers=2).session_limit() == 3
    for bad in ({"max_sessions": 0}, {"max_recognizers": 0}):
        with pytest.raises(ValueError):
            AgentConfig(**bad)  # type: ignore[arg-type]
    from voicecli.cli.serve import serve_command

    assert serve_command(port=0, speech=False, max_sessions=0) == 2  # a usage error, before listening


# ---- recognizers lent per utterance ----------------------------------------------------


async def test_two_sessions_speaking_at_once_each_get_a_recognizer() -> None:
    agent, pool = pooled_agent(limit=2)
    async with agent, atoms_connect(agent, sample_rate=RATE) as a, atoms_connect(agent, sample_rate=RATE) as b:
        for ws in (a, b):
            await recv_json(ws)
        assert pool.lent == 0, "a session that has not spoken holds no recognizer"
        await speak(a)
        await speak(b)
        await eventually(lambda: pool.lent == 2, "both speakers hold a recognizer")
        assert pool.made == 2 and pool.idle == 0
        await pause(a)
        await pause(b)
        assert await user_text(a) == "hello" and await user_text(b) == "hello"
        await eventually(lambda: pool.lent == 0, "both recognizers are given back")
        assert pool.idle == 2


async def test_a_session_holds_no_recognizer_between_utterances() -> None:
    agent, pool = pooled_agent(limit=2)
    async with agent, atoms_connect(agent, sample_rate=RATE) as ws:
        await recv_json(ws)
        for _ in range(2):
            await speak(ws)
            await eventually(lambda: pool.lent == 1, "the speaker holds a recognizer")
            await pause(ws)
            assert await user_text(ws) == "hello"
            await eventually(lambda: pool.lent == 0, "the recognizer is given back after the utterance")
        assert pool.made == 1, "the same recognizer served both utterances"


async def test_a_speaker_waits_for_a_recognizer_when_all_are_lent() -> None:
    agent, pool = pooled_agent(limit=1)
    async with agent, atoms_connect(agent, sample_rate=RATE) as a, atoms_connect(agent, sample_rate=RATE) as b:
        for ws in (a, b):
            await recv_json(ws)
        await speak(a)
        await eventually(lambda: pool.lent == 1, "the first speaker holds the only recognizer")
        await speak(b)
        await pause(b)  # b's utterance is over, but its audio waits for the recognizer
        await pause(a)
        assert await user_text(a) == "hello"
        assert await user_text(b) == "hello", "the waiting speaker's queued audio was recognised"
        await eventually(lambda: pool.lent == 0, "the recognizer is given back")
        assert pool.made == 1


async def test_a_recognizer_is_released_when_a_session_ends_mid_utterance() -> None:
    agent, pool = pooled_agent(limit=1)
    async with agent:
        async with atoms_connect(agent, sample_rate=RATE) as ws:
            await recv_json(ws)
            await speak(ws)
            await eventually(lambda: pool.lent == 1, "the speaker holds a recognizer")
        await eventually(lambda: pool.lent == 0, "the recognizer is given back when the session ends")
        async with atoms_connect(agent, sample_rate=RATE) as ws:  # and lent again
            await recv_json(ws)
            await speak(ws)
            await pause(ws)
            assert await user_text(ws) == "hello"


async def test_a_recognizer_call_still_running_is_not_released_under_it() -> None:
    gate = threading.Event()
    ears = FakeEars(gate)
    pool = RecognizerPool(FakeEars, ears, 1)
    listener = Listener(pool.lease(), RATE, lambda _output: None)
    listener.start_worker()
    listener.begin(tone(100, RATE))
    await eventually(lambda: ears.feeding.is_set(), "the recognizer is fed")
    for task in listener.stop():
        with pytest.raises(asyncio.CancelledError):
            await task
    assert pool.lent == 1, "released while its feed was still running"
    gate.set()
    await eventually(lambda: pool.lent == 0, "released once the running call returned")
    assert pool.idle == 1


# ---- many sessions with speech ---------------------------------------------------------


async def test_twenty_speech_sessions_open_quickly_and_a_new_client_is_served() -> None:
    async with LocalAgent(make_config(speech=True, greeting=None, brain="rules", max_sessions=21)) as server:
        assert server.voice is not None and server.voice.recognizers is not None

        async def session() -> tuple[float, object]:
            started = time.monotonic()
            ws = await atoms_connect(server, sample_rate=RATE)
            assert (await recv_json(ws))["type"] == "session.created"
            return time.monotonic() - started, ws

        opened = await asyncio.gather(*(session() for _ in range(20)))
        # the greetings are read, so that each client's close is read too
        drains = [asyncio.create_task(drain(ws)) for _, ws in opened]
        try:
            waits = sorted(wait for wait, _ in opened)
            assert waits[-1] < 2.0, f"slowest of 20 sessions took {waits[-1]:.2f} s to be ready"
            assert server.voice.recognizers.made == 1, "no session loaded a recognizer of its own"
            async with atoms_connect(server, sample_rate=RATE) as ws:
                await recv_json(ws)
                await ws.send(json.dumps({"type": "input_text.send", "text": "what is 12 plus 7"}))
                seen: list[dict] = []
                while True:
                    message = await until(ws, "transcript", seen=seen, timeout=20)
                    if message["role"] == "assistant" and "19" in message["text"]:
                        break
                with pytest.raises(InvalidStatus):  # the 22nd
                    async with atoms_connect(server, sample_rate=RATE):
                        pass
        finally:
            await asyncio.gather(*(ws.close() for _, ws in opened))  # type: ignore[attr-defined]
            await asyncio.gather(*drains)
