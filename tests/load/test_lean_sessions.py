"""Lean load sessions against a real local agent (tone voice, echo brain): a spoken turn
passes with its first-audio time measured from the end of the clip's speech, every session's
microphone frames reach the agent as the same pre-encoded messages (each chunk encoded once),
and the agent hears 20 ms frames at the clock's pace."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import TEST_KEY
from tests.scenario.conftest import write
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.load.clock import FrameClock
from voicecli.load.runner import LoadPlan, LoadRun
from voicecli.protocol.base import Adapter, DialectConfig
from voicecli.protocol.registry import adapter_class
from voicecli.scenario.loader import load
from voicecli.secrets import Secret

SPOKEN = """\
version: 1
name: spoken
target: {dialect: atoms, agent: agent_1}
settings: {greeting_wait_s: 0.2, timeout_s: 30}
turns:
  - say: hello there
    expect:
      reply_matches: i heard you
"""


def test_spoken_turns_of_lean_sessions(tmp_path: Path) -> None:
    frames: list[str] = []

    def tap(dialect: str, side: str, frame: str | bytes) -> None:
        if side == "client" and isinstance(frame, str) and '"input_audio_buffer.append"' in frame:
            frames.append(frame)

    async def scenario() -> tuple[LoadRun, dict[str, Any]]:
        config = AgentConfig(api_key=TEST_KEY, agent_ids={"agent_1"}, greeting="", speech=False, brain="echo")
        async with LocalAgent(config, tap=tap) as agent:
            async def adapter() -> Adapter:
                return adapter_class("atoms")(DialectConfig(url=agent.url, agent_id="agent_1",
                                                            api_key=Secret(TEST_KEY)))

            run = LoadRun(load(write(tmp_path, "spoken.yaml", SPOKEN)), adapter, LoadPlan(3, 50.0, 1.0))
            return run, await run.run()

    run, report = asyncio.run(scenario())
    assert report["conversations"] == 3 and report["pass_rate"] == 1.0, report["errors"]
    first_audio = report["latency_ms"]["first_audio_ms"]
    assert first_audio["n"] == 3 and 0 < first_audio["max"] < 5000
    assert report["frame_lateness_ms"]["n"] >= 3 * 50  # every session streamed for seconds
    # the agent heard every session's clip as the same messages: each chunk was encoded once
    assert len(frames) >= 3 * 50
    counts = Counter(frames)
    assert run.wire.encoded == len(counts) < len(frames) / 3
    assert max(counts.values()) >= 3
    audio = json.loads(frames[0])
    assert audio["type"] == "input_audio_buffer.append"
    assert run.clock.pacers == 0  # every microphone left the clock


def test_the_clock_stops_when_no_session_is_left() -> None:
    async def scenario() -> bool:
        clock = FrameClock()
        pacers = [clock.join() for _ in range(3)]
        await pacers[0].next()
        task = clock._task
        for pacer in pacers:
            pacer.close()
        await asyncio.sleep(0)
        return task is not None and task.cancelled() and clock.origin is None and clock.pacers == 0

    assert asyncio.run(scenario())


ANY_DIALECT = """\
version: 1
name: spoken, any dialect
target: {dialect: atoms, agent: local}
settings: {greeting_wait_s: 0.2, timeout_s: 60}
turns:
  - say: hello there
"""


@pytest.mark.realtime  # one spoken turn per dialect, paced in real time end to end
@pytest.mark.parametrize("dialect", ["elevenlabs", "token-pcm", "perfvoice", "voiceagent"])
def test_a_spoken_turn_in_every_dialect(tmp_path: Path, dialect: str) -> None:
    """Dialects whose audio messages carry state are encoded per frame; VoiceAgent, whose turns
    the client's VAD commits, keeps the whole mic path: each spoken turn is answered."""
    async def scenario() -> dict[str, Any]:
        config = AgentConfig(api_key=TEST_KEY, greeting="", speech=False, brain="echo")
        async with LocalAgent(config) as agent:
            async def adapter() -> Adapter:
                options = {"auth": "bearer"} if dialect == "voiceagent" else {}
                return adapter_class(dialect)(DialectConfig(url=agent.url, agent_id="local",
                                                            api_key=Secret(TEST_KEY), options=options))

            run = LoadRun(load(write(tmp_path, "any.yaml", ANY_DIALECT)), adapter, LoadPlan(2, 50.0, 1.0))
            return await run.run()

    report = asyncio.run(scenario())
    assert report["conversations"] == 2 and report["pass_rate"] == 1.0, report["errors"]
    assert report["latency_ms"]["first_audio_ms"]["n"] == 2
