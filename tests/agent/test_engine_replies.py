"""The engine and speaker on their own (no socket): where ReplyText goes, unpaced audio,
text-only sessions that queue typed messages, and how cut turns are reported."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable

from tests.agent.gates import GatedSynth, StepBrain
from voicecli.agent.brains.echo import EchoBrain
from voicecli.agent.engine import Engine, EngineOptions
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    Interrupted,
    ReplyText,
    TalkStart,
    TalkStop,
    TextOut,
    TranscriptOut,
    TurnDone,
    UserText,
)
from voicecli.agent.tone import ToneSynthesizer
from voicecli.agent.voice_contracts import Brain, Synthesizer

RATE = 16000
LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"


class ToldSynth(ToneSynthesizer):
    """The tone voice; ``made`` is set once a sentence has been synthesized."""

    def __init__(self) -> None:
        super().__init__(RATE)
        self.made = threading.Event()

    def synthesize(self, text: str) -> bytes:
        pcm = super().synthesize(text)
        self.made.set()
        return pcm


def engine(outs: list[AgentOutput], *, brain: Brain | None = None, synth: Synthesizer | None = None,
           audio_out: bool = True, **options: object) -> Engine:
    return Engine(brain=brain or EchoBrain(None), synth=synth or ToneSynthesizer(), recognizer=None,
                  input_rate=RATE, output_rate=RATE, audio_out=audio_out, emit=outs.append,
                  options=EngineOptions(greeting="", **options))  # type: ignore[arg-type]


async def wait_for(outs: list[AgentOutput], done: Callable[[list[AgentOutput]], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not done(outs):
        assert time.monotonic() < deadline, outs
        await asyncio.sleep(0.005)


def turns_done(count: int) -> Callable[[list[AgentOutput]], bool]:
    return lambda outs: sum(isinstance(o, TurnDone) for o in outs) >= count


def index(outs: list[AgentOutput], kind: type) -> list[int]:
    return [i for i, o in enumerate(outs) if isinstance(o, kind)]


async def test_reply_text_first_holds_the_audio_until_the_text_is_whole() -> None:
    outs: list[AgentOutput] = []
    go = asyncio.Event()
    brain = StepBrain("The first sentence. ", "The second one.", go)
    synth = ToldSynth()
    eng = engine(outs, brain=brain, synth=synth, reply_text_first=True, paced=False)
    eng.start(send_ready=False)
    eng.handle(UserText("hi"))
    assert await asyncio.to_thread(synth.made.wait, 5)  # the first sentence's audio is ready
    await asyncio.sleep(0.05)  # and has had time to reach the player
    assert not index(outs, AudioOut) and not index(outs, ReplyText)
    go.set()
    await wait_for(outs, turns_done(1))
    await eng.close()
    (reply,) = [o for o in outs if isinstance(o, ReplyText)]
    assert reply.text == "The first sentence. The second one."
    assert index(outs, ReplyText)[0] < index(outs, TalkStart)[0] < index(outs, AudioOut)[0]


async def test_reply_text_as_soon_as_the_text_is_whole() -> None:
    outs: list[AgentOutput] = []
    eng = engine(outs, speed=math.inf)  # paced (on a virtual clock), reply_text_first off
    eng.start(send_ready=False)
    eng.handle(UserText("Hello there. How are you today?"))
    await wait_for(outs, turns_done(1))
    await eng.close()
    (reply,) = index(outs, ReplyText)
    stop = [i for i, o in enumerate(outs) if isinstance(o, TextOut) and o.phase == "stop"][0]
    assert stop < reply < index(outs, AudioOut)[-1]  # before the last audio: speech lags the text
    assert isinstance(outs[-1], TurnDone) and outs[-1].text == "You said: Hello there. How are you today?"


def shape(outs: list[AgentOutput]) -> list[tuple[object, ...]]:
    """What a client sees of a turn, times left out: each output's kind and content."""
    return [(type(o).__name__, o.seq, o.offset, o.length, len(o.pcm)) if isinstance(o, AudioOut)
            else (type(o).__name__, getattr(o, "text", None)) for o in outs]


async def test_a_virtual_clock_sends_what_real_time_does_without_waiting() -> None:
    paced: list[AgentOutput] = []
    real = engine(paced, speed=8.0)  # real time, 8 times faster (seconds of reply in a fraction)
    real.start(send_ready=False)
    started = time.monotonic()
    real.handle(UserText(LONG))
    await wait_for(paced, turns_done(1))
    real_s = time.monotonic() - started
    await real.close()
    virtual: list[AgentOutput] = []
    fast = engine(virtual, speed=math.inf)
    fast.start(send_ready=False)
    started = time.monotonic()
    fast.handle(UserText(LONG))
    await wait_for(virtual, turns_done(1))
    virtual_s = time.monotonic() - started
    await fast.close()
    audio = [o for o in virtual if isinstance(o, AudioOut)]
    assert len(audio) > 50 and all(len(o.pcm) <= RATE * 40 // 1000 * 2 for o in audio)  # 40 ms chunks
    assert [o for o in virtual if isinstance(o, TranscriptOut) and not o.final][0].text == "You"  # word by word
    assert shape(virtual) == shape(paced)
    seconds = sum(len(o.pcm) for o in audio) / 2 / RATE
    assert real_s > seconds / 8 * 0.9 and virtual_s < real_s / 2, (seconds, real_s, virtual_s)


async def test_unpaced_audio_is_not_real_time() -> None:
    outs: list[AgentOutput] = []
    eng = engine(outs, paced=False)
    eng.start(send_ready=False)
    started = time.monotonic()
    eng.handle(UserText(LONG))
    await wait_for(outs, turns_done(1))
    elapsed = time.monotonic() - started
    await eng.close()
    seconds = sum(len(o.pcm) for o in outs if isinstance(o, AudioOut)) / 2 / RATE
    assert seconds > 3.0 and elapsed < seconds / 5, (elapsed, seconds)


async def test_text_only_replies_are_whole_and_queued() -> None:
    outs: list[AgentOutput] = []
    go = asyncio.Event()
    brain = StepBrain("Part one. ", "Part two.", go)
    eng = engine(outs, brain=brain)
    eng.start(send_ready=False, text_only=True)
    eng.handle(UserText("first"))
    await brain.started.wait()
    eng.handle(UserText("second"))  # while the first reply is being written
    go.set()
    await wait_for(outs, turns_done(2))
    await eng.close()
    assert not [o for o in outs if isinstance(o, (AudioOut, TalkStart, TalkStop, Interrupted))]
    finals = [o for o in outs if isinstance(o, TranscriptOut)]
    assert all(t.final for t in finals) and [t.text for t in finals] == ["Part one. Part two."] * 2
    assert [o.turn for o in outs if isinstance(o, TurnDone)] == [1, 2]
    first = [type(o).__name__ for o in outs if getattr(o, "turn", 0) == 1]
    assert first == ["TextOut", "TextOut", "TextOut", "TextOut", "ReplyText", "TranscriptOut", "TurnDone"]


async def test_a_dialect_without_audio_is_text_only() -> None:
    outs: list[AgentOutput] = []
    eng = engine(outs, audio_out=False)
    eng.start(send_ready=False)
    eng.handle(UserText("one"))
    eng.handle(UserText("two"))
    await wait_for(outs, turns_done(2))
    await eng.close()
    assert [o.text for o in outs if isinstance(o, TurnDone)] == ["You said: one.", "You said: two."]


async def test_voice_session_cuts_the_reply_and_reports_it() -> None:
    outs: list[AgentOutput] = []
    eng = engine(outs)
    eng.start(send_ready=False)
    eng.handle(UserText(LONG))
    await wait_for(outs, lambda o: len(index(o, AudioOut)) >= 3)
    eng.handle(UserText("stop"))
    await wait_for(outs, turns_done(2))
    await eng.close()
    cut = index(outs, Interrupted)[0]
    names = [type(o).__name__ for o in outs[cut:cut + 4]]
    assert names == ["Interrupted", "TranscriptOut", "TalkStop", "TurnDone"]
    heard = outs[cut + 3]
    assert isinstance(heard, TurnDone) and heard.turn == 1 and f"You said: {LONG}.".startswith(heard.text)


async def test_a_turn_cut_before_its_audio_reports_only_turn_done() -> None:
    outs: list[AgentOutput] = []
    synth = GatedSynth(allow=0, rate=RATE)
    eng = engine(outs, synth=synth)
    eng.start(send_ready=False)
    try:
        eng.handle(UserText("hello"))
        await wait_for(outs, lambda o: bool(index(o, ReplyText)))
        eng.interrupt()
        await eng.close()
    finally:
        synth.release()
    assert not index(outs, Interrupted) and not index(outs, TalkStart)
    assert isinstance(outs[-1], TurnDone) and outs[-1].text == ""
