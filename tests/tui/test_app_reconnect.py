"""The app across a lost connection (Pilot, a real local agent on loopback): the wait and
the attempt in the status bar and a notice, the conversation going on in the same pane
with a marker, the cut reply interrupted in the pane and the log, ``/reconnect`` after
giving up, typed text refused while disconnected, Ctrl+C leaving at once."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions
from voicecli.session.reconnect import Backoff, ReconnectSettings
from voicecli.tui import TalkSettings, VoiceApp, create_app
from voicecli.tui.binding import LiveSession
from voicecli.tui.widgets.transcript import Bubble

from .conftest import SIZE, submit, texts, wait_until

CONFIG = AgentConfig(api_key=None, greeting="", speech=False, brain="rules", allow_faults=True)


def make_app(port: int, tmp_path: Path, backoff: Backoff, first_fault: str | None = None) -> VoiceApp:
    def adapter(fault: str | None) -> AtomsAdapter:
        url = f"ws://127.0.0.1:{port}/atoms/v1/agent/connect" + (f"?fault={fault}" if fault else "")
        return AtomsAdapter(DialectConfig(url=url, agent_id="local", sample_rate=16000,
                                          api_key=Secret("sk_local_test")))

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[LiveSession]:
        options = SessionOptions(reconnect=ReconnectSettings(backoff=backoff, hold=True), close_grace_s=1.0)
        yield LiveSession(Session(adapter(first_fault), None, options, adapter_factory=lambda: adapter(None)),
                          "local agent, offline", local=True, agent="local")

    settings = TalkSettings(dialect="atoms", transcript_path=tmp_path / "transcript.jsonl", close_timeout=5)
    return create_app(factory, settings)


def has(app: VoiceApp, text: str) -> bool:
    return any(text in line for line in texts(app))


async def test_dropped_mid_reply_the_conversation_goes_on_in_the_same_pane(tmp_path: Path) -> None:
    # a 2 s wait: long enough for the test to see the waiting state on a loaded machine
    backoff = Backoff(first_s=2.0, max_delay_s=2.0, jitter=0, attempts=5, total_s=20)
    async with LocalAgent(CONFIG) as agent:
        app = make_app(agent.port, tmp_path, backoff, first_fault="drop@6")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.started, what="session start")
            await submit(pilot, "help")
            await wait_until(pilot, lambda: app.state.phase_text().startswith("reconnecting in"), what="the wait")
            assert app.state.phase_text() == "reconnecting in 2 s… attempt 1/5"
            assert has(app, "connection lost (the agent's reply was cut)")
            assert has(app, "reconnecting in 2 s… attempt 1/5 · /reconnect to try now")
            await wait_until(pilot, lambda: has(app, "voicecli  reconnected"), what="the marker")
            await wait_until(pilot, lambda: app.state.phase_text() == "live", what="live again")
            await submit(pilot, "what is 12 plus 7")
            await wait_until(pilot, lambda: has(app, "Agent  12 plus 7 is 19."), what="the reply")
            cut = [b for b in app.query(Bubble) if b.has_class("-interrupted")]
            assert len(cut) == 1 and cut[0].plain.startswith("Agent") and "what time is it" not in cut[0].plain
            lines = texts(app)
            assert lines.index("voicecli  reconnected") < lines.index("You (typed)  what is 12 plus 7")
            await submit(pilot, "/quit")
            await wait_until(pilot, lambda: app.closed is not None, what="close")
    assert app.return_value == 0
    records = [json.loads(line) for line in (tmp_path / "transcript.jsonl").read_text().splitlines()]
    turns = [r for r in records if r["type"] == "turn"]
    cut_records = [r for r in turns if r["role"] == "agent" and r["interrupted"]]
    assert cut_records and all(r["final"] for r in cut_records)
    assert not any(r["role"] == "agent" and r["text"] == cut_records[-1]["text"] and not r["interrupted"]
                   for r in turns)
    texts_in_order = [r["text"] for r in turns if not r.get("revision")]
    assert texts_in_order.index("reconnected") < texts_in_order.index("what is 12 plus 7")
    assert records[-1]["type"] == "end" and records[-1]["error"] is None


async def test_gave_up_then_the_reconnect_command(tmp_path: Path) -> None:
    backoff = Backoff(first_s=0.02, max_delay_s=0.05, jitter=0, attempts=2, total_s=5)
    agent = LocalAgent(CONFIG)
    await agent.start()
    port = agent.port
    app = make_app(port, tmp_path, backoff)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.started, what="session start")
            await submit(pilot, "/reconnect")
            assert has(app, "connected: nothing to reconnect")
            await agent.stop()
            await wait_until(pilot, lambda: app.state.phase_text() == "disconnected: /reconnect to retry",
                             what="giving up")
            assert has(app, "gave up after 2 attempts")
            await submit(pilot, "are you there")
            assert has(app, "not connected: reconnecting (/reconnect to try now)")
            assert not has(app, "You (typed)  are you there")
            agent = LocalAgent(CONFIG)
            await agent.start(port=port)
            await submit(pilot, "/reconnect")
            assert has(app, "reconnecting now")
            await wait_until(pilot, lambda: app.state.phase_text() == "live", what="live again")
            await submit(pilot, "what is 12 plus 7")
            await wait_until(pilot, lambda: has(app, "Agent  12 plus 7 is 19."), what="the reply")
            await submit(pilot, "/quit")
            await wait_until(pilot, lambda: app.closed is not None, what="close")
    finally:
        await agent.stop()
    assert app.return_value == 0
    records: list[dict[str, Any]] = [json.loads(line) for line in (tmp_path / "transcript.jsonl").read_text()
                                     .splitlines()]
    assert [r["text"] for r in records if r["type"] == "turn" and r["role"] == "system"
            and r["kind"] == "notice"] == ["reconnected"]


async def test_ctrl_c_during_a_long_wait_leaves_at_once(tmp_path: Path) -> None:
    backoff = Backoff(first_s=30, max_delay_s=30, jitter=0, attempts=5, total_s=300)
    async with LocalAgent(CONFIG) as agent:
        app = make_app(agent.port, tmp_path, backoff, first_fault="drop@1")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.state.phase_text() == "reconnecting in 30 s… attempt 1/5",
                             what="the wait")
            started = time.monotonic()
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: app.closed is not None, what="leaving")
            assert time.monotonic() - started < 1.5
    assert app.return_value == 6  # the loss was never recovered: network error
    assert app.closed is not None and "lost" in (app.closed.error or "")
