"""Reconnecting sessions against the real local agent on loopback: a connection dropped
mid-reply (the agent's ``drop@N`` fault on the first connection only, or the server stopped
and started again on the same port) → the same event stream and audio devices go on, the
transcript gets a marker and the cut reply is interrupted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from voicecli.agent.brains.rules import RulesBrain
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import Adapter, DialectConfig
from voicecli.protocol.commands import SendText
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import Event, SessionStarted
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions
from voicecli.session.events import (
    ConnectionLost,
    Reconnected,
    ReconnectGaveUp,
    Reconnecting,
    SessionClosed,
)
from voicecli.session.reconnect import Backoff, ReconnectSettings
from voicecli.session.transcript import Transcript, TranscriptLog

FAST = Backoff(first_s=0.02, factor=2, max_delay_s=0.2, jitter=0.1, attempts=5, total_s=20)
CONFIG = AgentConfig(api_key=None, greeting="", speech=False, brain="rules", allow_faults=True)
HELP = " ".join(RulesBrain().answer("help"))
PATHS = {"atoms": "/atoms/v1/agent/connect", "elevenlabs": "/v1/convai/conversation"}


class Recorder:
    """Every event of a session, as it comes; ``until`` waits for one that matches."""

    def __init__(self, session: Session) -> None:
        self.events: list[Event] = []
        self.transcript = Transcript()
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._take(session))

    async def _take(self, session: Session) -> None:
        async for event in session.events():
            self.events.append(event)
            self.transcript.apply(event)
            self._changed.set()

    async def until(self, predicate: Callable[[Event], bool], what: str, timeout: float = 15.0,
                    after: int = 0) -> Event:
        end = time.monotonic() + timeout
        while True:
            found = next((e for e in self.events[after:] if predicate(e)), None)
            if found is not None:
                return found
            self._changed.clear()
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; events: {self.kinds()}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def adapters(port: int, dialect: str = "atoms",
             first_fault: str | None = None) -> tuple[Adapter, Callable[[], Adapter]]:
    """The first adapter (with the fault, if any) and the factory of the next ones."""
    cls = AtomsAdapter if dialect == "atoms" else ElevenLabsAdapter

    def make(fault: str | None) -> Adapter:
        url = f"ws://127.0.0.1:{port}{PATHS[dialect]}" + (f"?fault={fault}" if fault else "")
        # no key for ElevenLabs: a public agent, no signed URL (which would drop the fault)
        key = Secret("sk_local_test") if dialect == "atoms" else None
        return cls(DialectConfig(url=url, agent_id="local", sample_rate=16000, api_key=key))

    return make(first_fault), lambda: make(None)


def reconnecting(backoff: Backoff = FAST, **kw: Any) -> SessionOptions:
    return SessionOptions(reconnect=ReconnectSettings(backoff=backoff, **kw), close_grace_s=1.0)


def agent_reply(text: str) -> Callable[[Event], bool]:
    def match(event: Event) -> bool:
        return type(event).__name__ in ("TranscriptFinal", "TranscriptDelta") and \
            getattr(event, "role", "") == "agent" and text in getattr(event, "text", "")
    return match


async def talk_after_reconnect(session: Session, rec: Recorder) -> None:
    start = len(rec.events)
    await rec.until(lambda e: isinstance(e, SessionStarted), "the new connection's ready message", after=start)
    session.submit(SendText("what is 12 plus 7"))
    await rec.until(agent_reply("12 plus 7 is 19."), "the reply on the new connection")


@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs"])
async def test_dropped_mid_reply_the_conversation_goes_on(dialect: str, tmp_path: Path) -> None:
    async with LocalAgent(CONFIG) as agent:
        first, factory = adapters(agent.port, dialect, first_fault="drop@8")
        backend = ScriptedBackend(realtime=False)
        session = Session(first, backend, reconnecting(), adapter_factory=factory)
        rec = Recorder(session)
        runner = asyncio.create_task(session.run())
        await rec.until(lambda e: isinstance(e, SessionStarted), "the first ready message")
        capture, playback = backend.capture, backend.playback
        session.submit(SendText("help"))  # a reply of two long sentences: the drop cuts it
        lost = await rec.until(lambda e: isinstance(e, ConnectionLost), "the lost connection")
        assert isinstance(lost, ConnectionLost) and lost.mid_reply and lost.close_code is None
        await talk_after_reconnect(session, rec)
        session.close()
        closed = await asyncio.wait_for(runner, 10)
        await rec.task

    assert closed.error is None and closed.exit_code == 0
    kinds = rec.kinds()
    assert kinds.count("SessionStarted") == 2 and kinds.count("SessionClosed") == 1
    lost_at, retry_at, back_at = kinds.index("ConnectionLost"), kinds.index("Reconnecting"), kinds.index("Reconnected")
    assert lost_at < retry_at < back_at < len(kinds) - 1 - kinds[::-1].index("SessionStarted")
    (retry,) = rec.of(Reconnecting)
    assert retry.attempt == 1 and retry.attempts == FAST.attempts and 0 < retry.delay_s <= FAST.max_delay_s
    assert rec.of(Reconnected) == [Reconnected(1)]
    # the audio devices stayed open: the same streams served both connections
    assert backend.capture is capture and backend.playback is playback

    turns = [(t.role, t.kind, t.text, t.final, t.interrupted) for t in rec.transcript.turns]
    cut = next(t for t in rec.transcript.turns if t.role == "agent")
    assert cut.interrupted and cut.final, turns
    assert cut.audio_s > 0 and HELP.startswith(cut.text.rstrip(" …")) and len(cut.text) < len(HELP) // 2, turns
    marker = next(i for i, t in enumerate(rec.transcript.turns) if t.text == "reconnected")
    later = rec.transcript.turns[marker + 1:]
    assert [(t.role, t.text) for t in later if t.role == "user"] == [("user", "what is 12 plus 7")], turns
    answer = next(t for t in later if t.role == "agent" and t.kind == "speech")
    assert answer.text == "12 plus 7 is 19." and not answer.interrupted, turns

    log = TranscriptLog(tmp_path / "t.jsonl")
    log.update(rec.transcript.turns)
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    saved = next(r for r in records if r.get("role") == "agent")
    assert saved["interrupted"] is True and saved["final"] is True
    assert any(r.get("role") == "system" and r.get("text") == "reconnected" for r in records)


async def test_server_restarted_on_the_same_port() -> None:
    agent = LocalAgent(CONFIG)
    await agent.start()
    port = agent.port
    first, factory = adapters(port)
    session = Session(first, None, reconnecting(Backoff(first_s=0.05, max_delay_s=0.2, jitter=0.1, attempts=50,
                                                        total_s=30)), adapter_factory=factory)
    rec = Recorder(session)
    runner = asyncio.create_task(session.run())
    try:
        await rec.until(lambda e: isinstance(e, SessionStarted), "the first ready message")
        session.submit(SendText("help"))
        await rec.until(agent_reply("I can"), "the first words of the reply")
        await agent.stop()
        # while nothing listens, tries are refused and retried
        await rec.until(lambda e: isinstance(e, Reconnecting) and "refused" in e.error, "a refused try")
        agent = LocalAgent(CONFIG)
        await agent.start(port=port)
        await talk_after_reconnect(session, rec)
        (lost,) = rec.of(ConnectionLost)
        assert lost.mid_reply
        assert rec.of(Reconnected)[0].attempt == rec.of(Reconnecting)[-1].attempt >= 2
        session.close()
        closed = await asyncio.wait_for(runner, 10)
        assert closed.error is None
    finally:
        runner.cancel()
        await agent.stop()


async def test_a_never_retry_close_ends_the_session() -> None:
    async with LocalAgent(CONFIG) as agent:
        first, factory = adapters(agent.port, first_fault="close:4000@3")
        session = Session(first, None, reconnecting(), adapter_factory=factory)
        rec = Recorder(session)
        session.submit(SendText("help"))
        closed = await asyncio.wait_for(session.run(), 10)
        await rec.task
    assert closed.exit_code == 7 and closed.close_code == 4000 and "4000" in (closed.error or "")
    assert not rec.of(Reconnecting) and not rec.of(Reconnected)
    assert isinstance(rec.events[-1], SessionClosed)


async def test_giving_up_then_reconnect_now_and_close_at_once() -> None:
    agent = LocalAgent(CONFIG)
    await agent.start()
    port = agent.port
    first, factory = adapters(port)
    few = Backoff(first_s=0.01, max_delay_s=0.02, jitter=0, attempts=2, total_s=5)
    session = Session(first, None, reconnecting(few, hold=True), adapter_factory=factory)
    rec = Recorder(session)
    runner = asyncio.create_task(session.run())
    try:
        await rec.until(lambda e: isinstance(e, SessionStarted), "the ready message")
        await agent.stop()
        gave_up = await rec.until(lambda e: isinstance(e, ReconnectGaveUp), "giving up")
        assert isinstance(gave_up, ReconnectGaveUp) and "gave up after 2 attempts" in gave_up.why
        assert not runner.done() and not session.live
        assert session.reconnect_now()
        await rec.until(lambda e: isinstance(e, ReconnectGaveUp), "giving up again",
                        after=rec.events.index(gave_up) + 1)
        agent = LocalAgent(CONFIG)
        await agent.start(port=port)
        assert session.reconnect_now()
        await rec.until(lambda e: isinstance(e, Reconnected), "the reconnect asked for")
        await rec.until(lambda e: isinstance(e, SessionStarted) and session.live, "live again")
        assert not session.reconnect_now()  # connected: nothing to do
        mark = len(rec.events)
        await agent.stop()
        await rec.until(lambda e: isinstance(e, Reconnecting), "the next loss", after=mark)
        session.close()
        started = time.monotonic()
        closed = await asyncio.wait_for(runner, 5)
        assert time.monotonic() - started < 1.0, "close() while reconnecting must end at once"
        assert closed.exit_code == 6 and closed.error  # the loss that was never recovered
    finally:
        runner.cancel()
        await agent.stop()


async def test_close_during_a_long_wait_ends_at_once() -> None:
    async with LocalAgent(CONFIG) as agent:
        first, factory = adapters(agent.port, first_fault="drop@1")
        slow = Backoff(first_s=30, max_delay_s=30, jitter=0, attempts=3, total_s=300)
        session = Session(first, None, reconnecting(slow), adapter_factory=factory)
        rec = Recorder(session)
        runner = asyncio.create_task(session.run())
        await rec.until(lambda e: isinstance(e, Reconnecting), "the first wait")
        session.close()
        closed = await asyncio.wait_for(runner, 2)
    assert closed.exit_code == 6 and "lost" in (closed.error or "")


async def test_first_connection_retried_only_when_asked() -> None:
    async with LocalAgent(CONFIG) as agent:
        first, factory = adapters(agent.port, first_fault="reject:503")
        session = Session(first, None, reconnecting(first_connection=True), adapter_factory=factory)
        rec = Recorder(session)
        runner = asyncio.create_task(session.run())
        await rec.until(lambda e: isinstance(e, SessionStarted), "ready after the retry")
        (retry,) = rec.of(Reconnecting)
        assert "503" in retry.error and not rec.of(Reconnected) and not rec.of(ConnectionLost)
        session.close()
        assert (await asyncio.wait_for(runner, 10)).exit_code == 0

        first, factory = adapters(agent.port, first_fault="reject:503")
        session = Session(first, None, reconnecting(), adapter_factory=factory)
        rec = Recorder(session)
        closed = await asyncio.wait_for(session.run(), 10)
        assert closed.exit_code == 6 and "503" in (closed.error or "") and not rec.of(Reconnecting)
