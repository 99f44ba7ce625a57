"""Push-to-talk in the engine: while a client holds the turn (``UserHold``) a pause does
not end it; the commit on release does, and a hold with ``ms`` lapses without renewal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from tests.agent.test_engine_replies import wait_for
from voicecli.agent.engine import Engine, EngineOptions
from voicecli.agent.interfaces import (
    AgentOutput,
    TalkStart,
    TranscriptOut,
    UserAudio,
    UserCommit,
    UserHold,
)
from voicecli.agent.tone import ToneSynthesizer
from voicecli.agent.voice_contracts import BaseBrain

RATE = 16000
FRAME = RATE * 2 * 20 // 1000  # 20 ms


def tone(ms: int) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    pcm: bytes = (3000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    return pcm


def silence(ms: int) -> bytes:
    return bytes(RATE * 2 * ms // 1000)


class CountingEars:
    """A recognizer that 'hears' how much audio an utterance had, in ms."""

    name = "counting"
    rate = RATE

    def __init__(self) -> None:
        self.fed = 0

    def start(self) -> None:
        self.fed = 0

    def feed(self, pcm: bytes) -> str | None:
        self.fed += len(pcm)
        return None

    def finish(self) -> str:
        return str(self.fed * 1000 // (RATE * 2))


class HeardBrain(BaseBrain):
    name = "heard"

    def __init__(self) -> None:
        self.heard: list[str] = []

    def greeting(self) -> str | None:
        return None

    async def reply(self, user_text: str) -> AsyncIterator[str]:
        self.heard.append(user_text)
        yield "ok."


def make(outs: list[AgentOutput], brain: HeardBrain) -> Engine:
    engine = Engine(brain=brain, synth=ToneSynthesizer(RATE), recognizer=CountingEars(), input_rate=RATE,
                    output_rate=RATE, audio_out=True, emit=outs.append,
                    options=EngineOptions(greeting="", paced=False))
    engine.start()
    return engine


def feed(engine: Engine, pcm: bytes) -> None:
    for i in range(0, len(pcm), FRAME):
        engine.handle(UserAudio(pcm[i:i + FRAME], RATE))


def user_turns(outs: list[AgentOutput]) -> list[str]:
    return [o.text for o in outs if isinstance(o, TranscriptOut) and o.role == "user"]


async def test_without_a_hold_a_long_pause_splits_the_utterance() -> None:
    outs: list[AgentOutput] = []
    brain = HeardBrain()
    engine = make(outs, brain)
    feed(engine, tone(500) + silence(1500))
    await wait_for(outs, lambda o: len(user_turns(o)) == 1)
    feed(engine, tone(500) + silence(1000))
    await wait_for(outs, lambda o: len(user_turns(o)) == 2)
    assert len(brain.heard) == 2
    await engine.close()


async def test_a_held_turn_survives_a_pause_and_ends_on_the_commit() -> None:
    outs: list[AgentOutput] = []
    brain = HeardBrain()
    engine = make(outs, brain)
    engine.handle(UserHold())
    feed(engine, silence(200) + tone(500) + silence(1500) + tone(500) + silence(1500))
    await asyncio.sleep(0.05)
    assert user_turns(outs) == [] and not any(isinstance(o, TalkStart) for o in outs)
    engine.handle(UserCommit())
    await wait_for(outs, lambda o: any(isinstance(x, TalkStart) for x in o))
    (heard,) = user_turns(outs)
    assert int(heard) >= 2500, heard  # one utterance: both words and the pause between them
    assert brain.heard == [heard]
    await engine.close()


async def test_a_hold_with_ms_lapses_and_ends_a_paused_turn() -> None:
    outs: list[AgentOutput] = []
    brain = HeardBrain()
    engine = make(outs, brain)
    engine.handle(UserHold(300))
    feed(engine, tone(200))
    engine.handle(UserHold(300))  # renewed: the pause below is still held ...
    feed(engine, silence(280))
    engine.handle(UserHold(300))
    feed(engine, silence(280))
    engine.handle(UserHold(300))
    feed(engine, silence(280))  # ... 840 ms of pause, more than the 600 ms hangover
    await asyncio.sleep(0.05)
    assert user_turns(outs) == []
    feed(engine, silence(320))  # no renewal: the hold lapses, the pause ends the turn
    await wait_for(outs, lambda o: len(user_turns(o)) == 1)
    await engine.close()


async def test_a_lapsed_hold_mid_speech_leaves_the_end_to_the_vad() -> None:
    outs: list[AgentOutput] = []
    engine = make(outs, HeardBrain())
    engine.handle(UserHold(100))
    feed(engine, tone(600))  # the hold lapsed while the user was speaking
    await asyncio.sleep(0.05)
    assert user_turns(outs) == []
    feed(engine, silence(300))
    await asyncio.sleep(0.05)
    assert user_turns(outs) == []  # within the hangover
    feed(engine, silence(400))
    await wait_for(outs, lambda o: len(user_turns(o)) == 1)
    await engine.close()
